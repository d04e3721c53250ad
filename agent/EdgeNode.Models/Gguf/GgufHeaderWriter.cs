using System.Text;

namespace EdgeNode.Models.Gguf;

/// <summary>Writes the GGUF header pieces: magic and counts, typed metadata pairs, tensor entries.</summary>
internal sealed class GgufHeaderWriter(BinaryWriter output)
{
    public const uint Version = 3;

    /// <summary>Where the metadata count sits: after the magic, the version and the tensor count.</summary>
    public const int MetadataCountOffset = 4 + 4 + 8;

    public long MetadataCount { get; private set; }

    public void WritePreamble(long tensorCount, long metadataCount)
    {
        output.Write("GGUF"u8);
        output.Write(Version);
        output.Write((ulong)tensorCount);
        output.Write((ulong)metadataCount);
    }

    public void WriteString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        output.Write((ulong)bytes.Length);
        output.Write(bytes);
    }

    public void Add(string key, string value)
    {
        Key(key, GgufValueType.String);
        WriteString(value);
    }

    public void Add(string key, uint value)
    {
        Key(key, GgufValueType.UInt32);
        output.Write(value);
    }

    public void Add(string key, float value)
    {
        Key(key, GgufValueType.Float32);
        output.Write(value);
    }

    public void Add(string key, IReadOnlyList<string> values)
    {
        ArrayKey(key, GgufValueType.String, values.Count);
        foreach (var v in values)
            WriteString(v);
    }

    public void Add(string key, IReadOnlyList<float> values)
    {
        ArrayKey(key, GgufValueType.Float32, values.Count);
        foreach (var v in values)
            output.Write(v);
    }

    public void Add(string key, IReadOnlyList<int> values)
    {
        ArrayKey(key, GgufValueType.Int32, values.Count);
        foreach (var v in values)
            output.Write(v);
    }

    public void WriteTensorInfo(GgufTensorInfo tensor)
    {
        WriteString(tensor.Name);
        output.Write((uint)tensor.Dimensions.Count);
        foreach (var d in tensor.Dimensions)
            output.Write((ulong)d);
        output.Write((uint)tensor.Type);
        output.Write((ulong)tensor.Offset);
    }

    private void Key(string key, GgufValueType type)
    {
        MetadataCount++;
        WriteString(key);
        output.Write((uint)type);
    }

    private void ArrayKey(string key, GgufValueType elementType, int count)
    {
        Key(key, GgufValueType.Array);
        output.Write((uint)elementType);
        output.Write((ulong)count);
    }
}
