namespace EdgeNode.Models;

/// <summary>
/// Llama 3's RoPE frequency scaling (Hugging Face rope_type "llama3"): long wavelengths are slowed by
/// <paramref name="Factor"/>, short ones kept, and the band between blended, so a model trained at
/// <paramref name="OriginalMaxPositionEmbeddings"/> positions keeps its local resolution at longer contexts.
/// </summary>
public sealed record RopeScaling(float Factor, float LowFreqFactor, float HighFreqFactor, int OriginalMaxPositionEmbeddings)
{
    public float Adjust(float frequency)
    {
        var lowFrequencyWavelength = OriginalMaxPositionEmbeddings / LowFreqFactor;
        var highFrequencyWavelength = OriginalMaxPositionEmbeddings / HighFreqFactor;
        var wavelength = 2f * MathF.PI / frequency;
        if (wavelength < highFrequencyWavelength)
            return frequency;
        if (wavelength > lowFrequencyWavelength)
            return frequency / Factor;
        var smooth = (OriginalMaxPositionEmbeddings / wavelength - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
        return (1f - smooth) * frequency / Factor + smooth * frequency;
    }
}
