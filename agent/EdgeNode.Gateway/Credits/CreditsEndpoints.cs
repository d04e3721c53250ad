using System.Text.Json;
using EdgeNode.Gateway.Api;
using EdgeNode.Ledger;
using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Credits;

/// <summary>
/// GET /v1/credits: the caller's account (balance, floor left today, recent receipts) and this node's.
/// POST /v1/credits/receipts: a pool member hands in a signed receipt; refused ones get the ledger's reason.
/// </summary>
internal static class CreditsEndpoints
{
    public static Task GetAsync(HttpContext context, NodeCredits credits)
    {
        var limitText = context.Request.Query["limit"].ToString();
        var limit = 20;
        if (limitText.Length > 0 && (!int.TryParse(limitText, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > 1000))
            throw ApiError.InvalidRequest($"'limit' must be a whole number from 1 to 1000, not '{limitText}'.", "limit", "invalid_value");
        var keyId = credits.KeyIdOf(CallerKey.Of(context));
        var view = new CreditsView
        {
            Key = credits.Ledger.Statement(keyId, limit),
            Node = credits.Ledger.Statement(credits.Identity.NodeId, 0),
            Rates = new CreditRatesView
            {
                SpendPerToken = credits.Ledger.Rates.SpendPerToken, EarnPerTokenLayer = credits.Ledger.Rates.EarnPerTokenLayer,
                DailyFloor = credits.Ledger.Rates.DailyFloor,
                PrecisionWeights = new Dictionary<string, decimal>(StringComparer.Ordinal)
                {
                    ["fp32"] = PrecisionWeights.Fp32, ["fp16"] = PrecisionWeights.Fp16, ["int8"] = PrecisionWeights.Int8, ["int4"] = PrecisionWeights.Int4,
                },
            },
        };
        return context.Response.WriteAsJsonAsync(view, GatewayJsonContext.Default.CreditsView, contentType: null, cancellationToken: context.RequestAborted);
    }

    public static async Task SubmitReceiptAsync(HttpContext context, NodeCredits credits, GatewayOptions options)
    {
        var submission = await RequestBody.ReadAsync(context.Request, GatewayJsonContext.Default.ReceiptSubmission, options.MaxRequestBodyBytes).ConfigureAwait(false);
        if (string.IsNullOrEmpty(submission.Receipt))
            throw ApiError.MissingParameter("receipt");
        var verdict = credits.Ledger.Accept(submission.Receipt);
        if (!verdict.Accepted)
        {
            var status = verdict.Code switch
            {
                "replayed" => StatusCodes.Status409Conflict,
                "unknown_node" or "forged" => StatusCodes.Status403Forbidden,
                _ => StatusCodes.Status400BadRequest,
            };
            throw new ApiError(status, $"Receipt refused ({verdict.Code}): {verdict.Reason}.", "invalid_request_error", "receipt", "receipt_" + verdict.Code);
        }
        var answer = new ReceiptAccepted
        {
            RequestId = verdict.Receipt!.RequestId, NodeId = verdict.Receipt.NodeId, Earned = verdict.Earned, Spent = verdict.Spent, FloorUsed = verdict.FloorUsed,
        };
        await context.Response.WriteAsJsonAsync(answer, GatewayJsonContext.Default.ReceiptAccepted, contentType: null, cancellationToken: context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The dashboard's credits panel: this node's account and the ledger's size.</summary>
    public static JsonElement DashboardSummary(NodeCredits credits)
    {
        var node = credits.Ledger.Statement(credits.Identity.NodeId, 5);
        var summary = new DashboardCredits
        {
            NodeId = credits.Identity.NodeId, Balance = node.Balance, Earned = node.Earned, Spent = node.Spent,
            Receipts = credits.Ledger.ReceiptCount(), Members = credits.Ledger.Members().Count, Recent = node.Recent,
        };
        return JsonSerializer.SerializeToElement(summary, GatewayJsonContext.Default.DashboardCredits);
    }
}

public sealed class CreditsView
{
    /// <summary>The caller's key account (the anonymous account on a node with no keys).</summary>
    public required CreditStatement Key { get; init; }

    /// <summary>This node's account: what it earned serving others.</summary>
    public required CreditStatement Node { get; init; }
    public required CreditRatesView Rates { get; init; }
}

public sealed class CreditRatesView
{
    public required decimal SpendPerToken { get; init; }
    public required decimal EarnPerTokenLayer { get; init; }
    public required decimal DailyFloor { get; init; }
    public required Dictionary<string, decimal> PrecisionWeights { get; init; }
}

public sealed class ReceiptSubmission
{
    public string? Receipt { get; set; }
}

public sealed class ReceiptAccepted
{
    public required string RequestId { get; init; }
    public required string NodeId { get; init; }
    public required decimal Earned { get; init; }
    public required decimal Spent { get; init; }
    public required decimal FloorUsed { get; init; }
}

public sealed class DashboardCredits
{
    public required string NodeId { get; init; }
    public required decimal Balance { get; init; }
    public required decimal Earned { get; init; }
    public required decimal Spent { get; init; }
    public required long Receipts { get; init; }
    public required int Members { get; init; }
    public required List<LedgerEntry> Recent { get; init; }
}
