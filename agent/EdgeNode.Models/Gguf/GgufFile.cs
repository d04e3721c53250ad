using System.Text;

namespace EdgeNode.Models.Gguf;

/// <summary>
/// A minimal GGUF v2/v3 reader: the metadata, the tensor table, and each tensor's raw bytes. Arrays come back as typed
/// arrays (string[], float[], int[], ...); scalars as their .NET type.
/// </summary>
public sealed class GgufFile
{
    private const int DefaultAlignment = 32;

    // Sanity limits so a corrupt count fails with a message instead of an out-of-memory.
    private const ulong MaxCount = 1 << 24;

    private readonly string _path;

    private GgufFile(string path, uint version, Dictionary<string, object> metadata, List<GgufTensorInfo> tensors, long dataOffset)
    {
        _path = path;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        DataOffset = dataOffset;
    }

    public uint Version { get; }

    public IReadOnlyDictionary<string, object> Metadata { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>File offset of the tensor data section.</summary>
    public long DataOffset { get; }

    public static GgufFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var fileName = Path.GetFileName(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var input = new BinaryReader(stream);
        try
        {
            if (stream.Length < 24 || !input.ReadBytes(4).AsSpan().SequenceEqual("GGUF"u8))
                throw new ModelFormatException($"{fileName}: no GGUF magic at the start; this is not a GGUF file");
            var version = input.ReadUInt32();
            if (version is not (2 or 3))
                throw new ModelFormatException($"{fileName}: GGUF version {version} is not supported (2 or 3 expected); convert the model again with a current converter");
            var tensorCount = CheckCount(fileName, "tensor_count", input.ReadUInt64());
            var metadataCount = CheckCount(fileName, "metadata_kv_count", input.ReadUInt64());

            var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
            for (var i = 0; i < metadataCount; i++)
            {
                var key = ReadString(input, fileName);
                var type = (GgufValueType)input.ReadUInt32();
                metadata[key] = ReadValue(input, type, fileName, key);
            }

            var tensors = new List<GgufTensorInfo>(tensorCount);
            for (var i = 0; i < tensorCount; i++)
            {
                var name = ReadString(input, fileName);
                var dimensionCount = input.ReadUInt32();
                if (dimensionCount is 0 or > 4)
                    throw new ModelFormatException($"{fileName}: tensor {name} has {dimensionCount} dimensions (1..4 expected); the file is corrupt");
                var dimensions = new long[dimensionCount];
                for (var d = 0; d < dimensions.Length; d++)
                    dimensions[d] = (long)input.ReadUInt64();
                var type = (GgufTensorType)input.ReadUInt32();
                if (!Enum.IsDefined(type))
                    throw new ModelFormatException($"{fileName}: tensor {name} has ggml type {(int)type}, which this reader does not handle (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K); re-quantize the model to one of those");
                tensors.Add(new GgufTensorInfo(name, dimensions, type, (long)input.ReadUInt64()));
            }

            var alignment = metadata.TryGetValue("general.alignment", out var a) && a is uint u && u > 0 ? (long)u : DefaultAlignment;
            var dataOffset = (stream.Position + alignment - 1) / alignment * alignment;
            foreach (var t in tensors)
            {
                if (dataOffset + t.Offset + t.ByteCount > stream.Length)
                    throw new ModelFormatException($"{fileName}: tensor {t.Name} ends at byte {dataOffset + t.Offset + t.ByteCount}, past the end of the file ({stream.Length} bytes); the download is incomplete — fetch it again");
            }
            return new GgufFile(path, version, metadata, tensors, dataOffset);
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFormatException($"{fileName}: the GGUF header ends early ({stream.Length} bytes); the download is incomplete — fetch it again", e);
        }
    }

    public GgufTensorInfo Tensor(string name) =>
        Tensors.FirstOrDefault(t => t.Name == name) ?? throw new KeyNotFoundException($"{Path.GetFileName(_path)} has no tensor {name}");

    public byte[] ReadTensorBytes(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var bytes = new byte[tensor.ByteCount];
        using var handle = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var done = 0;
        while (done < bytes.Length)
        {
            var read = RandomAccess.Read(handle, bytes.AsSpan(done), DataOffset + tensor.Offset + done);
            if (read <= 0)
                throw new ModelFormatException($"{Path.GetFileName(_path)}: tensor {tensor.Name} is cut short; fetch the file again");
            done += read;
        }
        return bytes;
    }

    /// <summary>The tensor's values as float32 (dequantized for block types).</summary>
    public float[] ReadTensorFloats(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var values = new float[tensor.ElementCount];
        GgufBlockQuantizer.Decode(tensor.Type, ReadTensorBytes(tensor), values);
        return values;
    }

    private static int CheckCount(string fileName, string field, ulong count)
    {
        if (count > MaxCount)
            throw new ModelFormatException($"{fileName}: {field} = {count} is absurd (more than {MaxCount}); the file is corrupt");
        return (int)count;
    }

    private static string ReadString(BinaryReader input, string fileName)
    {
        var length = input.ReadUInt64();
        if (length > 1 << 20)
            throw new ModelFormatException($"{fileName}: a string of {length} bytes in the header is absurd; the file is corrupt");
        var bytes = input.ReadBytes((int)length);
        if (bytes.Length != (int)length)
            throw new EndOfStreamException();
        return Encoding.UTF8.GetString(bytes);
    }

    private static object ReadValue(BinaryReader input, GgufValueType type, string fileName, string key) => type switch
    {
        GgufValueType.UInt8 => input.ReadByte(),
        GgufValueType.Int8 => input.ReadSByte(),
        GgufValueType.UInt16 => input.ReadUInt16(),
        GgufValueType.Int16 => input.ReadInt16(),
        GgufValueType.UInt32 => input.ReadUInt32(),
        GgufValueType.Int32 => input.ReadInt32(),
        GgufValueType.Float32 => input.ReadSingle(),
        GgufValueType.Bool => input.ReadByte() != 0,
        GgufValueType.String => ReadString(input, fileName),
        GgufValueType.UInt64 => input.ReadUInt64(),
        GgufValueType.Int64 => input.ReadInt64(),
        GgufValueType.Float64 => input.ReadDouble(),
        GgufValueType.Array => ReadArray(input, fileName, key),
        _ => throw new ModelFormatException($"{fileName}: metadata key {key} has value type {(uint)type}, which GGUF does not define; the file is corrupt"),
    };

    private static object ReadArray(BinaryReader input, string fileName, string key)
    {
        var elementType = (GgufValueType)input.ReadUInt32();
        var count = CheckCount(fileName, key + " length", input.ReadUInt64());
        T[] Read<T>(Func<T> one)
        {
            var values = new T[count];
            for (var i = 0; i < count; i++)
                values[i] = one();
            return values;
        }
        return elementType switch
        {
            GgufValueType.UInt8 => Read(input.ReadByte),
            GgufValueType.Int8 => Read(input.ReadSByte),
            GgufValueType.UInt16 => Read(input.ReadUInt16),
            GgufValueType.Int16 => Read(input.ReadInt16),
            GgufValueType.UInt32 => Read(input.ReadUInt32),
            GgufValueType.Int32 => Read(input.ReadInt32),
            GgufValueType.Float32 => Read(input.ReadSingle),
            GgufValueType.Bool => Read(() => input.ReadByte() != 0),
            GgufValueType.String => Read(() => ReadString(input, fileName)),
            GgufValueType.UInt64 => Read(input.ReadUInt64),
            GgufValueType.Int64 => Read(input.ReadInt64),
            GgufValueType.Float64 => Read(input.ReadDouble),
            GgufValueType.Array => Read(() => ReadArray(input, fileName, key)),
            _ => throw new ModelFormatException($"{fileName}: metadata array {key} has element type {(uint)elementType}, which GGUF does not define; the file is corrupt"),
        };
    }
}
