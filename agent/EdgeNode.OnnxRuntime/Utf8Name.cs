namespace EdgeNode.OnnxRuntime;

/// <summary>A tensor or option name encoded once for the C API and kept for reuse on every call.</summary>
internal sealed unsafe class Utf8Name
{
    private readonly byte[] _bytes;

    public Utf8Name(string value)
    {
        Value = value;
        _bytes = Utf8.ToPinnedNullTerminated(value);
    }

    public string Value { get; }

    /// <summary>Valid while this object is reachable (the bytes live on the pinned object heap).</summary>
    public byte* Pointer => Utf8.PointerOf(_bytes);
}
