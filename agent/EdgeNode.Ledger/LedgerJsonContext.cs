using System.Text.Json.Serialization;

namespace EdgeNode.Ledger;

/// <summary>The receipt's wire form and the ledger's reports, generated at build time (NativeAOT: no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(Receipt))]
[JsonSerializable(typeof(CreditStatement))]
[JsonSerializable(typeof(List<LedgerEntry>))]
[JsonSerializable(typeof(List<LedgerMember>))]
public sealed partial class LedgerJsonContext : JsonSerializerContext;
