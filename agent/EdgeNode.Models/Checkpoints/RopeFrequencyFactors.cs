namespace EdgeNode.Models;

/// <summary>
/// Per-pair RoPE divisors as llama.cpp stores them (tensor rope_freqs.weight): pair i rotates at
/// theta^(-2i/HeadSize) / Factors[i]. This is how a GGUF file carries Llama-3 scaling, whose parameters it drops.
/// Compared by value, so two configs with the same factors are equal.
/// </summary>
public sealed record RopeFrequencyFactors(float[] Factors)
{
    public bool Equals(RopeFrequencyFactors? other) =>
        other is not null && Factors.AsSpan().SequenceEqual(other.Factors);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var factor in Factors)
            hash.Add(factor);
        return hash.ToHashCode();
    }
}
