using System.Text.Json;

namespace EdgeNode.Gateway.Jobs;

/// <summary>POST /v1/jobs: one line of OpenAI's batch input.</summary>
public sealed class JobSubmission
{
    public string? CustomId { get; set; }
    public string? Url { get; set; }
    public JsonElement? Body { get; set; }
}

/// <summary>A job as the API shows it.</summary>
public sealed class JobView
{
    public required string Id { get; init; }
    public string Object => "job";
    public string? CustomId { get; init; }
    public required string Url { get; init; }
    public required string Status { get; init; }
    public required long CreatedAt { get; init; }
    public long? StartedAt { get; init; }
    public long? FinishedAt { get; init; }
    public int Attempts { get; init; }
    public required JobProgress Progress { get; init; }

    /// <summary>What the endpoint answered: its status code and body, as a direct request would have received them.</summary>
    public JobResponse? Response { get; init; }
}

public sealed class JobProgress
{
    /// <summary>Characters of text generated so far by the run in progress (its length once finished).</summary>
    public long Characters { get; init; }

    /// <summary>0 while queued, 1 once finished; in between while running, against max_tokens.</summary>
    public double Fraction { get; init; }
}

public sealed class JobResponse
{
    public required int StatusCode { get; init; }
    public required JsonElement Body { get; init; }
}

public sealed class JobList
{
    public string Object => "list";
    public required List<JobView> Data { get; init; }
    public required bool HasMore { get; init; }
}
