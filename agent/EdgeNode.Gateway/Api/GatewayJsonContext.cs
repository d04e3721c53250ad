using System.Text.Json.Serialization;

namespace EdgeNode.Gateway.Api;

/// <summary>Every JSON shape the API reads or writes, generated at build time (NativeAOT: no reflection).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.Strict,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(CompletionRequest))]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(Completion))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(Jobs.JobSubmission))]
[JsonSerializable(typeof(Jobs.JobView))]
[JsonSerializable(typeof(Jobs.JobList))]
[JsonSerializable(typeof(Dashboard.DashboardSnapshot))]
[JsonSerializable(typeof(Credits.CreditsView))]
[JsonSerializable(typeof(Credits.ReceiptSubmission))]
[JsonSerializable(typeof(Credits.ReceiptAccepted))]
[JsonSerializable(typeof(Credits.DashboardCredits))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
