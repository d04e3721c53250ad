namespace EdgeNode.Models.Onnx;

/// <summary>
/// One dimension of a graph input or output: a fixed size, or a symbol (such as "batch") that the
/// runtime binds at run time. A symbol wins when both are set.
/// </summary>
public readonly record struct OnnxDim(long Value, string? Symbol)
{
    public bool IsSymbolic => Symbol is not null;

    public static implicit operator OnnxDim(long value) => new(value, null);

    public static implicit operator OnnxDim(string symbol) => new(0, symbol ?? throw new ArgumentNullException(nameof(symbol)));

    public override string ToString() => Symbol ?? Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
