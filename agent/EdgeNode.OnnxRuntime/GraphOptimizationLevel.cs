namespace EdgeNode.OnnxRuntime;

/// <summary>How much ORT rewrites the graph at session creation (values as in the C API).</summary>
public enum GraphOptimizationLevel
{
    Disabled = 0,
    Basic = 1,
    Extended = 2,
    All = 99,
}
