namespace EdgeNode.Inference.Sampling;

/// <summary>
/// How the next token is chosen. Temperature 0 (or below <see cref="TokenSampler.GreedyBelowTemperature"/>)
/// is greedy (argmax) and ignores the rest. Otherwise the order is Hugging Face's: repetition penalty,
/// temperature, top-k, then top-p over the top-k renormalised.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Softmax temperature; 0 (or below 1e-5) = greedy. Default 0.8.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep only the K most likely tokens; 0 = off. Default 40.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Keep the smallest set of likeliest tokens whose probability (after top-k, renormalised) reaches P; 1 = off. Default 0.95.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Divide positive logits (multiply negative) of recently seen tokens by this; 1 = off. Default 1.0.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;

    /// <summary>How many recent tokens the repetition penalty looks at. Default 64.</summary>
    public int RepetitionWindow { get; init; } = 64;

    /// <summary>Random seed, all 64 bits of it used; null draws one from the clock.</summary>
    public ulong? Seed { get; init; }

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0, TopK = 0, TopP = 1 };

    public void Validate()
    {
        if (Temperature < 0 || float.IsNaN(Temperature))
            throw new ArgumentException($"--temperature {Temperature} must be >= 0");
        if (TopP <= 0 || TopP > 1 || float.IsNaN(TopP))
            throw new ArgumentException($"--top-p {TopP} must be in (0, 1]");
        if (TopK < 0)
            throw new ArgumentException($"--top-k {TopK} must be >= 0");
        if (RepetitionPenalty <= 0 || float.IsNaN(RepetitionPenalty))
            throw new ArgumentException($"--repeat-penalty {RepetitionPenalty} must be > 0");
    }
}
