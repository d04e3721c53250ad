using System.Text.Json.Serialization;

namespace EdgeNode.Agent.Peers;

/// <summary>Source-generated JSON for the peer's output line: no reflection, so it survives NativeAOT.</summary>
[JsonSourceGenerationOptions(RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(LlamaCppRun))]
internal sealed partial class LlamaCppRunJsonContext : JsonSerializerContext;
