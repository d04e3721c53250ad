using EdgeNode.Gateway.Credits;
using EdgeNode.Gateway.Modes;
using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Api;

/// <summary>
/// What the gateway decided about a request before it runs: whose it is (the key's account), whether it goes first
/// (a contributor's), and the mode. After the run <see cref="Settle"/> turns what was served into a signed receipt.
/// </summary>
internal sealed class RequestServing
{
    public const string ModeHeader = "EdgeNode-Mode";
    public const string ReceiptHeader = "EdgeNode-Receipt";

    private readonly NodeCredits? _credits;
    private readonly string? _receiptId;

    private RequestServing(string keyId, bool contributor, ModePicker.Choice mode, NodeCredits? credits, string? receiptId = null)
    {
        _receiptId = receiptId;
        KeyId = keyId;
        Contributor = contributor;
        Mode = mode;
        _credits = credits;
    }

    public string KeyId { get; }

    /// <summary>The key is linked to a node it runs: it waits ahead of other keys in the model's queue.</summary>
    public bool Contributor { get; }

    public ModePicker.Choice Mode { get; }

    /// <summary>
    /// For an HTTP request: the caller's account must have floor or credits left (402 if not), and some mode must
    /// serve the model (503 naming what is missing if not). Sets the EdgeNode-Mode header.
    /// </summary>
    public static RequestServing Begin(HttpContext context, ModelRunner runner, ModePicker picker, bool async)
    {
        var credits = context.RequestServices.GetService(typeof(NodeCredits)) as NodeCredits;
        var keyId = credits?.KeyIdOf(CallerKey.Of(context)) ?? Ledger.AccountIds.Anonymous;
        var mode = picker.Pick(new ModeRequest(runner, async));
        var contributor = credits?.Admit(keyId) ?? false;
        context.Response.Headers[ModeHeader] = mode.Name;
        return new RequestServing(keyId, contributor, mode, credits);
    }

    /// <summary>
    /// For a job when it runs: its submitter's account, async mode, no queue priority (interactive requests go first
    /// anyway). The receipt is named after the job, so a job run again after a crash cannot be charged twice.
    /// </summary>
    public static RequestServing ForJob(string jobId, string keyId, NodeCredits? credits) =>
        new(keyId, false, new ModePicker.Choice(ServingModeNames.Async, null, "a job"), credits, jobId);

    /// <summary>Signs and settles the receipt for a served request; null when credits are off on this node.</summary>
    public string? Settle(string requestId, string model, int tokensIn, int tokensOut, int layers, string precision) =>
        _credits?.Settle(KeyId, _receiptId ?? requestId, model, tokensIn, tokensOut, layers, precision, Mode.Name);
}
