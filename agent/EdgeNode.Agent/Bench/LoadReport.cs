using System.Text.Json.Serialization;

namespace EdgeNode.Agent.Bench;

/// <summary>`edgenode bench --load`: what N concurrent streaming chats against one `edgenode serve` measured.</summary>
public sealed class LoadReport
{
    public required string Url { get; init; }
    public required string Model { get; init; }
    public required int Streams { get; init; }
    public required int MaxTokens { get; init; }

    /// <summary>The queue bound and rate limits the served node ran with (set by the bench when it started the node).</summary>
    public required string ServerSettings { get; init; }
    public required int Errors { get; init; }
    public required List<string> ErrorSamples { get; init; }
    public required double WallSeconds { get; init; }
    public required long CompletionTokens { get; init; }
    public required double AggregateTokS { get; init; }
    public required double TtftP50Ms { get; init; }
    public required double TtftP99Ms { get; init; }
    public required double TtftMaxMs { get; init; }
    public required double PerStreamTokSP50 { get; init; }
    public required double PerStreamTokSMin { get; init; }

    /// <summary>Modes the responses reported (EdgeNode-Mode), with counts.</summary>
    public required Dictionary<string, int> Modes { get; init; }
    public long? ServerRssBeforeBytes { get; init; }
    public long? ServerRssPeakBytes { get; init; }
    public long? ServerRssAfterBytes { get; init; }

    /// <summary>The server's resident memory over the run: [seconds since start, bytes].</summary>
    public required List<double[]> ServerRssTimeline { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(LoadReport))]
internal sealed partial class LoadJsonContext : JsonSerializerContext;
