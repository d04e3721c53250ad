namespace EdgeNode.OnnxRuntime;

/// <summary>The ONNX Runtime shared library could not be found; the message lists every place looked and the fix.</summary>
public sealed class OrtLibraryNotFoundException : OrtLibraryException
{
    public OrtLibraryNotFoundException(string message, IReadOnlyList<string> searched)
        : base(message)
    {
        Searched = searched;
    }

    public IReadOnlyList<string> Searched { get; }
}
