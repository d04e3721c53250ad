namespace EdgeNode.Ledger;

/// <summary>
/// What a token through one layer earns at each weight precision, relative to fp32. The work a node does per token
/// and layer is the same matrix shapes at any precision; what differs is what it commits (bytes held and read per
/// token: fp32 4, fp16 2, int8 1, int4 ½) and what the requester gets (int8 is close to lossless, int4 measurably
/// worse). Paying by bytes alone (1, ½, ¼, ⅛) would reward holding fp32 where int8 gives nearly the same answer, and
/// push the smallest boards — which can only hold int4 — out; paying all precisions alike would ignore the quality
/// the requester loses at int4. The weights sit between: they fall with the quality lost, not with the bytes saved.
/// docs/credits.md gives the table and the reasoning.
/// </summary>
public static class PrecisionWeights
{
    public const decimal Fp32 = 1.00m;
    public const decimal Fp16 = 0.90m;
    public const decimal Int8 = 0.80m;
    public const decimal Int4 = 0.60m;

    /// <summary>The weight for a precision name as manifests write it (fp32, fp16, bf16, int8, int4, q8_0, q4_0).</summary>
    public static decimal Of(string precision) => precision.ToLowerInvariant() switch
    {
        "fp32" or "f32" => Fp32,
        "fp16" or "f16" or "bf16" => Fp16,
        "int8" or "q8_0" or "q8" => Int8,
        "int4" or "q4_0" or "q4" => Int4,
        _ => throw new ArgumentException($"unknown weight precision '{precision}'; a receipt names fp32, fp16, bf16, int8 or int4"),
    };
}
