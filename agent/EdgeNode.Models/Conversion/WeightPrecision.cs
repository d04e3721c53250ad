namespace EdgeNode.Models.Conversion;

/// <summary>How the matrices of a converted model are stored. Norms and the embedding table stay fp32.</summary>
public enum WeightPrecision
{
    /// <summary>float32 MatMul weights: the exact path, checked against the reference to 1e-4.</summary>
    Fp32,

    /// <summary>8-bit block-quantized weights (com.microsoft MatMulNBits, bits = 8).</summary>
    Int8,

    /// <summary>4-bit block-quantized weights (com.microsoft MatMulNBits, bits = 4).</summary>
    Int4,
}

public static class WeightPrecisionNames
{
    public static string ToName(this WeightPrecision precision) => precision switch
    {
        WeightPrecision.Fp32 => "fp32",
        WeightPrecision.Int8 => "int8",
        WeightPrecision.Int4 => "int4",
        _ => throw new ArgumentOutOfRangeException(nameof(precision)),
    };

    public static WeightPrecision Parse(string name) => name.ToLowerInvariant() switch
    {
        "fp32" or "f32" or "float32" => WeightPrecision.Fp32,
        "int8" or "q8" => WeightPrecision.Int8,
        "int4" or "q4" => WeightPrecision.Int4,
        _ => throw new ArgumentException($"unknown precision '{name}'; use fp32, int8 or int4"),
    };

    public static int Bits(this WeightPrecision precision) => precision switch
    {
        WeightPrecision.Int8 => 8,
        WeightPrecision.Int4 => 4,
        _ => 32,
    };
}
