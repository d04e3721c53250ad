using EdgeNode.Models.Onnx;
using EdgeNode.TestSupport;

namespace EdgeNode.OnnxRuntime.Tests;

public sealed class OnnxModelWriterTests
{
    [Fact]
    public void External_tensors_are_64_byte_aligned_and_small_ones_stay_inline()
    {
        using var folder = TestPaths.NewTempDirectory("onnx-external");
        var path = Path.Combine(folder.Path, "model.onnx");
        var writer = new OnnxModelWriter(path, "g", "weights.bin");
        using (writer)
        {
            writer.ImportOpset("", 21);
            writer.AddInput("x", OnnxElementType.Float, 4);
            writer.AddOutput("y", OnnxElementType.Float, 4);
            writer.AddInitializer("odd", OnnxElementType.UInt8, [1000 + 3], new byte[1003]);
            Assert.Equal(0, writer.ExternalDataBytes);
            writer.AddInitializer("first", OnnxElementType.UInt8, [1027], Enumerable.Repeat((byte)1, 1027).ToArray());
            writer.AddInitializer("second", [256], Enumerable.Repeat(2f, 256).ToArray());
            writer.AddInitializer("bias", [4], [1f, 2f, 3f, 4f]);
            writer.AddNode("Add", ["x", "bias"], ["y"]);
            Assert.Equal(1088 + 1024, writer.ExternalDataBytes);
            writer.Save();
        }

        Assert.Equal(1088 + 1024, writer.ExternalDataBytes);
        var data = File.ReadAllBytes(Path.Combine(folder.Path, "weights.bin"));
        Assert.Equal(1088 + 1024, data.Length);
        Assert.All(data.AsSpan(0, 1027).ToArray(), b => Assert.Equal(1, b));
        Assert.All(data.AsSpan(1027, 61).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(2f, BitConverter.ToSingle(data, 1088));

        using var session = SharedOrt.Open(path);
        using var buffer = new NativeBuffer<float>(4);
        using var x = NativeTensor.Over(buffer, 4);
        using var outputs = SharedOrt.Run(session, ["x"], [x], ["y"]);
        Assert.Equal([1f, 2f, 3f, 4f], outputs[0].GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void Mismatched_data_length_and_duplicate_names_are_rejected()
    {
        using var folder = TestPaths.NewTempDirectory("onnx-invalid");
        using var writer = new OnnxModelWriter(Path.Combine(folder.Path, "m.onnx"), "g");

        Assert.Throws<ArgumentException>(() => writer.AddInitializer("w", [2, 2], [1f, 2f, 3f]));
        writer.AddInitializer("w", [1], [1f]);
        Assert.Throws<ArgumentException>(() => writer.AddInitializer("w", [1], [1f]));
        Assert.Throws<InvalidOperationException>(writer.Save);
        Assert.Throws<ArgumentException>(() => new OnnxModelWriter(Path.Combine(folder.Path, "m.onnx"), "g", "sub/dir.data"));
    }
}
