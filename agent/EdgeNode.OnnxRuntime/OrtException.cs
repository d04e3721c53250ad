namespace EdgeNode.OnnxRuntime;

/// <summary>A failed ONNX Runtime call, with ORT's own error code and message.</summary>
public sealed class OrtException : Exception
{
    public OrtException(OrtErrorCode code, string message)
        : base($"ONNX Runtime {code}: {message}")
    {
        Code = code;
        OrtMessage = message;
    }

    public OrtErrorCode Code { get; }

    /// <summary>The message exactly as ORT reported it.</summary>
    public string OrtMessage { get; }
}
