using System.Text.Json;

namespace EdgeNode.Gateway.Dashboard;

/// <summary>
/// The node's state as the dashboard shows it, sent once a second on GET /v1/dashboard/events. Pool, sensors and
/// credits are null until this node has them; the page shows a labelled placeholder for each.
/// </summary>
public sealed record DashboardSnapshot
{
    public required double UptimeSeconds { get; init; }
    public required long WorkingSetBytes { get; init; }
    public required long ManagedHeapBytes { get; init; }
    public required long Requests { get; init; }
    public required long Tokens { get; init; }
    public required List<DashboardModel> Models { get; init; }
    public required List<DashboardRun> Recent { get; init; }

    /// <summary>Jobs by status (queued, in_progress, completed, failed, cancelled); null when jobs are off.</summary>
    public Dictionary<string, int>? Jobs { get; init; }

    public JsonElement? Pool { get; init; }
    public JsonElement? Sensors { get; init; }
    public JsonElement? Credits { get; init; }
}

public sealed record DashboardModel
{
    public required string Id { get; init; }

    /// <summary>The weights' precision once loaded; null before (the model is loaded on its first request).</summary>
    public string? Precision { get; init; }
    public required bool Loaded { get; init; }

    /// <summary>Requests running on or waiting for this model.</summary>
    public required int QueueDepth { get; init; }
    public required long Requests { get; init; }
    public required long Tokens { get; init; }
}

public sealed record DashboardRun
{
    public required string Model { get; init; }
    public required int Tokens { get; init; }
    public required double Seconds { get; init; }
    public required double TokensPerSecond { get; init; }
    public required long FinishedAtMs { get; init; }
}
