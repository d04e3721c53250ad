namespace EdgeNode.Models.Gguf;

/// <summary>ggml tensor types, numbered as in the GGUF file (only the ones EdgeNode writes).</summary>
public enum GgufTensorType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
}
