namespace EdgeNode.Models;

/// <summary>
/// Llama 3's RoPE frequency scaling (Hugging Face rope_type "llama3"): long wavelengths are slowed by
/// <paramref name="Factor"/>, short ones kept, and the band between blended, so a model trained at
/// <paramref name="OriginalMaxPositionEmbeddings"/> positions keeps its local resolution at longer contexts.
/// </summary>
public sealed record RopeScaling(float Factor, float LowFreqFactor, float HighFreqFactor, int OriginalMaxPositionEmbeddings)
{
    public float Adjust(float frequency) => frequency / FrequencyFactor(frequency);

    /// <summary>
    /// The divisor this scaling applies to <paramref name="frequency"/>, in float32 as llama.cpp's converter computes the
    /// rope_freqs tensor it writes for such models, so a Hugging Face import and a GGUF import rotate by the same bits.
    /// </summary>
    public float FrequencyFactor(float frequency)
    {
        var lowFrequencyWavelength = OriginalMaxPositionEmbeddings / LowFreqFactor;
        var highFrequencyWavelength = OriginalMaxPositionEmbeddings / HighFreqFactor;
        var wavelength = 2f * MathF.PI / frequency;
        if (wavelength < highFrequencyWavelength)
            return 1f;
        if (wavelength > lowFrequencyWavelength)
            return Factor;
        var smooth = (OriginalMaxPositionEmbeddings / wavelength - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
        return 1f / ((1f - smooth) / Factor + smooth);
    }
}
