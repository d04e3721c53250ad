namespace EdgeNode.Models.Conversion;

/// <summary>
/// How a converted model stores its key/value cache. The cache is the one memory cost that grows with the context, so
/// halving it doubles the context a device can hold; GroupQueryAttention reads either type.
/// </summary>
public enum KvPrecision
{
    /// <summary>float32 keys and values: the exact path, what an fp32 conversion keeps so it matches the reference.</summary>
    Fp32,

    /// <summary>
    /// float16 keys and values: half the memory per position. Measured on ONNX Runtime's CPU kernel: max |Δ| 2.5e-5 of
    /// the attention output against float32, one decode step at 1024 cached positions 0.59 ms against 0.49 ms.
    /// </summary>
    Fp16,
}

public static class KvPrecisionNames
{
    public static string ToName(this KvPrecision precision) => precision switch
    {
        KvPrecision.Fp32 => "fp32",
        KvPrecision.Fp16 => "fp16",
        _ => throw new ArgumentOutOfRangeException(nameof(precision)),
    };

    public static KvPrecision Parse(string name) => name.ToLowerInvariant() switch
    {
        "fp32" or "f32" or "float32" => KvPrecision.Fp32,
        "fp16" or "f16" or "float16" => KvPrecision.Fp16,
        _ => throw new ArgumentException($"unknown KV cache precision '{name}'; use fp16 or fp32"),
    };

    /// <summary>Bytes of one key or value element.</summary>
    public static int ElementBytes(this KvPrecision precision) => precision == KvPrecision.Fp16 ? 2 : sizeof(float);

    /// <summary>
    /// The cache a conversion gets unless told otherwise. int4 is what a memory-bound board picks, and there a float16
    /// cache costs nothing measurable (stories260K top-1 agreement with fp32 81.0% → 80.8%, llama2xs 71.4% → 72.1%).
    /// int8 is picked for quality, and with int8 activations (accuracy level 4) a float16 cache moves its logits about
    /// as much as the int8 weights do (stories260K greedy tokens matching the golden 675 → 578 of 956), so it keeps
    /// float32; fp32 stays exact against the reference. --kv-precision overrides either.
    /// </summary>
    public static KvPrecision DefaultFor(WeightPrecision weights) => weights == WeightPrecision.Int4 ? KvPrecision.Fp16 : KvPrecision.Fp32;
}
