namespace EdgeNode.OnnxRuntime;

/// <summary>A session input or output: its name, element type and dimensions, -1 for a symbolic dimension.</summary>
public sealed record OrtTensorInfo(string Name, OrtElementType ElementType, IReadOnlyList<long> Dimensions)
{
    public override string ToString() => $"{Name}: {ElementType}[{string.Join(",", Dimensions)}]";
}
