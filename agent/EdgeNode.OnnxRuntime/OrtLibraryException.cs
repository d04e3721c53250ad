namespace EdgeNode.OnnxRuntime;

/// <summary>
/// The ONNX Runtime library is missing or unusable (another CPU architecture, not a shared library, too old, a
/// dependency missing). The message is one line that names the file and the fix.
/// </summary>
public class OrtLibraryException(string message) : Exception(message);
