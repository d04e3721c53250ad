using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.OnnxRuntime;

/// <summary>ONNX Runtime's errors as the one line a person needs.</summary>
public static class OrtErrors
{
    /// <summary>
    /// ORT messages carry an error-code prefix and a source location ("[ErrorCode:Fail] ... file.cc:12 Func]
    /// actual reason"), sometimes over several lines; this keeps the code and the reason, bounded.
    /// </summary>
    public static string OneLine(OnnxRuntimeException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return $"ONNX Runtime {CodeOf(error.Message)}: {Summarize(error.Message)}";
    }

    /// <summary>The error code the managed API puts in front of ORT's message ("[ErrorCode:NoSuchFile] ..."), or "error".</summary>
    public static string CodeOf(string message)
    {
        const string prefix = "[ErrorCode:";
        if (!message.StartsWith(prefix, StringComparison.Ordinal))
            return "error";
        var close = message.IndexOf(']', StringComparison.Ordinal);
        return close > prefix.Length ? message[prefix.Length..close] : "error";
    }

    public static string Summarize(string message)
    {
        var line = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? message;
        if (line.StartsWith("[ErrorCode:", StringComparison.Ordinal))
        {
            var close = line.IndexOf(']', StringComparison.Ordinal);
            if (close > 0)
                line = line[(close + 1)..].TrimStart();
        }
        var marker = line.LastIndexOf("] ", StringComparison.Ordinal);
        if (marker >= 0 && line.IndexOf(".cc:", StringComparison.Ordinal) is var source && source >= 0 && source < marker)
            line = line[(marker + 2)..].TrimStart(':', ' ');
        return line.Length <= 300 ? line : line[..297] + "...";
    }
}
