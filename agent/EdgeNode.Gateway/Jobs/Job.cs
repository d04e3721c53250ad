namespace EdgeNode.Gateway.Jobs;

/// <summary>One async job as stored: an OpenAI batch line (custom_id, url, body) and what became of it.</summary>
public sealed record Job
{
    public required string Id { get; init; }
    public string? CustomId { get; init; }
    public required string Url { get; init; }
    public required string Body { get; init; }
    public required string Status { get; init; }
    public required long CreatedAt { get; init; }
    public long? StartedAt { get; init; }
    public long? FinishedAt { get; init; }

    /// <summary>Times a run of this job began; more than one when the node stopped or crashed mid-run and resumed it.</summary>
    public int Attempts { get; init; }

    /// <summary>The endpoint's status code and JSON answer, once the job has finished (completed or failed).</summary>
    public int? StatusCode { get; init; }
    public string? Result { get; init; }

    /// <summary>The account of the key that submitted it (a hash, never the key): the job's receipt charges it.</summary>
    public string? KeyId { get; init; }
}

/// <summary>The states of a job, as OpenAI's batch API names them.</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}
