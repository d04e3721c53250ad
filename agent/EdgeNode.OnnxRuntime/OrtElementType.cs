namespace EdgeNode.OnnxRuntime;

/// <summary>ONNXTensorElementDataType values for the element types EdgeNode moves through ORT.</summary>
public enum OrtElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    Float16 = 10,
}
