namespace EdgeNode.OnnxRuntime;

/// <summary>OrtLoggingLevel: the least severe message ORT prints.</summary>
public enum OrtLogLevel
{
    Verbose = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}
