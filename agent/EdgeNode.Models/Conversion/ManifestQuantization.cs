namespace EdgeNode.Models.Conversion;

/// <summary>manifest.json's record of how the weights were quantized, so a result can be traced to its settings.</summary>
public sealed class ManifestQuantization
{
    public required string Precision { get; set; }

    /// <summary>0 for fp32.</summary>
    public int BlockSize { get; set; }

    public int AccuracyLevel { get; set; }

    public bool Asymmetric { get; set; }

    /// <summary>The calibration behind activation-aware scaling, or null when none was applied.</summary>
    public ManifestActivationAware? ActivationAware { get; set; }

    /// <summary>The recipe and variant the settings came from, or null when given by hand.</summary>
    public string? Recipe { get; set; }

    public string? Variant { get; set; }
}

/// <summary>Which text activation-aware scaling was calibrated on and how much of it.</summary>
public sealed class ManifestActivationAware
{
    public required string CalibrationSha256 { get; set; }

    /// <summary>Token positions the channel statistics were averaged over.</summary>
    public long Tokens { get; set; }

    public float Alpha { get; set; }
}
