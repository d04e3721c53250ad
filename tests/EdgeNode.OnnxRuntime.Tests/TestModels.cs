using EdgeNode.Models.Onnx;

namespace EdgeNode.OnnxRuntime.Tests;

/// <summary>Small graphs written with the ONNX writer, for running through the real runtime.</summary>
internal static class TestModels
{
    /// <summary>c = a + b over float [batch, 3].</summary>
    public static string Add(string folder)
    {
        var path = Path.Combine(folder, "add.onnx");
        using var writer = new OnnxModelWriter(path, "add");
        writer.ImportOpset("", 21);
        writer.AddInput("a", OnnxElementType.Float, "batch", 3);
        writer.AddInput("b", OnnxElementType.Float, "batch", 3);
        writer.AddOutput("c", OnnxElementType.Float, "batch", 3);
        writer.AddNode("Add", ["a", "b"], ["c"], name: "add");
        writer.Save();
        return path;
    }

    /// <summary>y = x · w with w a [n, n] weight in the external data file.</summary>
    public static string MatMul(string folder, float[] weight, int n)
    {
        var path = Path.Combine(folder, "matmul.onnx");
        using var writer = new OnnxModelWriter(path, "matmul");
        writer.ImportOpset("", 21);
        writer.AddInput("x", OnnxElementType.Float, 1, n);
        writer.AddOutput("y", OnnxElementType.Float, 1, n);
        writer.AddInitializer("w", [n, n], weight);
        writer.AddNode("MatMul", ["x", "w"], ["y"]);
        writer.Save();
        return path;
    }
}
