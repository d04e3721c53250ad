using System.Buffers.Binary;
using EdgeNode.Models.Safetensors;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Import;

public sealed class SafetensorsFileTests
{
    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
    }

    [Fact]
    public void Written_tensors_read_back_in_each_dtype()
    {
        using var temp = TestPaths.NewTempDirectory("safetensors");
        var path = temp.File("t.safetensors");
        var a = Values(6 * 5, 1);
        var b = Values(7, 2);
        var c = Values(3 * 4, 3);
        new SafetensorsWriter()
            .AddMetadata("format", "pt")
            .Add("a", a, [6, 5])
            .Add("b", b, [7], "F16")
            .Add("c", c, [3, 4], "BF16")
            .Write(path);

        var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(0, file.DataOffset % 8);
        Assert.Equal([6L, 5L], file.Tensor("a").Shape);
        Assert.Equal("BF16", file.Tensor("c").DType);
        Assert.Equal(a, file.ReadFloats("a"));
        Assert.Equal(b.Select(v => (float)(Half)v), file.ReadFloats("b"));
        var bf16 = file.ReadFloats("c");
        for (var i = 0; i < c.Length; i++)
        {
            Assert.InRange(Math.Abs(bf16[i] - c[i]), 0, Math.Abs(c[i]) / 256);
            Assert.Equal(0, BitConverter.SingleToInt32Bits(bf16[i]) & 0xFFFF); // exactly representable in bfloat16
        }
    }

    [Fact]
    public void A_truncated_file_names_the_tensor_that_is_cut()
    {
        using var temp = TestPaths.NewTempDirectory("safetensors");
        var path = temp.File("t.safetensors");
        new SafetensorsWriter().Add("first", Values(8, 1), [8]).Add("second", Values(8, 2), [8]).Write(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        var error = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("t.safetensors", error.Message);
        Assert.Contains("second", error.Message);
        Assert.Contains("fetch it again", error.Message);
    }

    [Fact]
    public void An_absurd_header_length_is_rejected()
    {
        using var temp = TestPaths.NewTempDirectory("safetensors");
        var path = temp.File("bad.safetensors");
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 40);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("header length", error.Message);
    }

    [Fact]
    public void Offsets_that_disagree_with_the_shape_are_rejected()
    {
        using var temp = TestPaths.NewTempDirectory("safetensors");
        var path = temp.File("bad.safetensors");
        var header = """{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}    """u8.ToArray();
        var bytes = new byte[8 + header.Length + 24];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("tensor w is F32 [2, 3], which needs 24 bytes", error.Message);
    }

    [Fact]
    public void Unsupported_dtypes_fail_when_read_with_the_fix()
    {
        using var temp = TestPaths.NewTempDirectory("safetensors");
        var path = temp.File("ids.safetensors");
        var header = """{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"""u8.ToArray();
        var bytes = new byte[8 + header.Length + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var file = SafetensorsFile.Open(path);
        var error = Assert.Throws<ModelFormatException>(() => file.ReadFloats("ids"));
        Assert.Contains("dtype I64, expected F32, F16 or BF16", error.Message);
    }
}
