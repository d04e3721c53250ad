namespace EdgeNode.Models.Gguf;

/// <summary>ggml tensor types, numbered as in the GGUF file (the ones EdgeNode reads; it writes F32, F16, Q8_0 and Q4_0).</summary>
public enum GgufTensorType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    Q4_K = 12,
    Q6_K = 14,
    BF16 = 30,
}
