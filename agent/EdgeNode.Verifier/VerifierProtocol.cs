using System.Text.Json.Serialization;

namespace EdgeNode.Verifier;

/// <summary>POST /v1/verifier/sessions: a conversation on a served target model (docs/speculative.md).</summary>
public sealed class OpenSessionRequest
{
    public string? Model { get; set; }

    /// <summary>The token history (prompt, or prompt and everything accepted so far). Either this or <see cref="Prompt"/>.</summary>
    public int[]? Tokens { get; set; }

    /// <summary>Prompt text, encoded by the target's tokenizer (with BOS); the answer carries the ids.</summary>
    public string? Prompt { get; set; }

    /// <summary>The drafting side's <c>TokenizerFingerprint</c>; a different one is refused (409).</summary>
    public string? Tokenizer { get; set; }

    public float? Temperature { get; set; }
    public int? TopK { get; set; }
    public float? TopP { get; set; }
    public float? RepetitionPenalty { get; set; }
    public ulong? Seed { get; set; }

    /// <summary>
    /// Benchmark only: the verifier keeps each draft with this probability whatever it is (see
    /// <c>DraftVerifier</c>); the session's output is then not the target's. Omit it outside a benchmark.
    /// </summary>
    public double? BenchmarkAcceptance { get; set; }
}

public sealed class OpenSessionResponse
{
    public required string Session { get; init; }
    public required string Model { get; init; }
    /// <summary>The history the session starts from (the prompt's ids when text was sent).</summary>
    public required int[] Tokens { get; init; }
    public required string Tokenizer { get; init; }
    public int VocabSize { get; init; }
    /// <summary>Positions the session may hold.</summary>
    public int Context { get; init; }
    public int MaxDraft { get; init; }
    public double IdleTimeoutSeconds { get; init; }
    public double PrefillMs { get; init; }
}

/// <summary>POST /v1/verifier/sessions/{id}/verify.</summary>
public sealed class VerifyRequest
{
    /// <summary>Draft tokens after the session's history (may be empty: a plain decode step).</summary>
    public int[]? Draft { get; set; }

    /// <summary>
    /// Optional, sampling only: for each draft, the distribution it was drawn from, sparse (ids and probabilities).
    /// Without it each draft counts as certain (q one-hot): right for greedy and n-gram drafters.
    /// </summary>
    public DraftDistribution[]? DraftDistributions { get; set; }
}

public sealed class DraftDistribution
{
    public int[]? Ids { get; set; }
    public float[]? Probabilities { get; set; }
}

public sealed class VerifyResponse
{
    /// <summary>Drafts accepted, from the first.</summary>
    public int Accepted { get; init; }
    /// <summary>The correction (at the first rejected draft) or bonus token (after the last).</summary>
    public int Token { get; init; }
    /// <summary>The session's history length after the round.</summary>
    public int Length { get; init; }
    /// <summary>Sampling only: the target's probability of each examined draft token.</summary>
    public float[]? TargetProbabilities { get; init; }
    /// <summary>The verifier's time for the round (its pass), so the client can tell the network apart.</summary>
    public double VerifyMs { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OpenSessionRequest))]
[JsonSerializable(typeof(OpenSessionResponse))]
[JsonSerializable(typeof(VerifyRequest))]
[JsonSerializable(typeof(VerifyResponse))]
[JsonSerializable(typeof(VerifierStats))]
[JsonSerializable(typeof(Gateway.Api.ErrorBody))]
public sealed partial class VerifierJsonContext : JsonSerializerContext;
