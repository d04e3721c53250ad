namespace EdgeNode.Models.Onnx;

/// <summary>Tensor element types, numbered as ONNX TensorProto.DataType.</summary>
public enum OnnxElementType
{
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    Int32 = 6,
    Int64 = 7,
    Float16 = 10,
}
