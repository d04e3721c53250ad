using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace EdgeNode.Models.Safetensors;

/// <summary>
/// A safetensors file: an 8-byte little-endian header length, a JSON header mapping each tensor name to its dtype, shape
/// and byte range (plus optional string metadata under "__metadata__"), then the raw data. Opening reads only the
/// header; each tensor is read on demand, so a multi-gigabyte checkpoint never sits in memory twice.
/// </summary>
public sealed class SafetensorsFile
{
    // Real headers are a few hundred kilobytes; anything beyond this is corruption, not a bigger model.
    private const ulong MaxHeaderBytes = 100 << 20;

    // F16/BF16 are widened through a buffer of this size, so converting never needs a second copy of a tensor.
    private const int ConvertChunkElements = 1 << 18;

    private readonly Dictionary<string, SafetensorsTensorInfo> _tensors;

    private SafetensorsFile(string path, long dataOffset, Dictionary<string, SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        DataOffset = dataOffset;
        _tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    /// <summary>File offset of the data section (8 + header length).</summary>
    public long DataOffset { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public IReadOnlyCollection<SafetensorsTensorInfo> Tensors => _tensors.Values;

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafetensorsTensorInfo Tensor(string name) =>
        _tensors.TryGetValue(name, out var info)
            ? info
            : throw new ModelFormatException($"{FileName}: no tensor {name}; the checkpoint is not the model family its config.json claims, or a shard is missing — fetch the full model again");

    private string FileName => System.IO.Path.GetFileName(Path);

    public static SafetensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var fileName = System.IO.Path.GetFileName(path);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = RandomAccess.GetLength(handle);
        Span<byte> prefix = stackalloc byte[8];
        if (length < 8 || RandomAccess.Read(handle, prefix, 0) != 8)
            throw new ModelFormatException($"{fileName}: {length} bytes is too short for a safetensors header (8-byte length expected); the download is incomplete — fetch it again");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes || (long)headerLength > length - 8)
        {
            throw new ModelFormatException(
                $"{fileName}: header length {headerLength} does not fit the file ({length} bytes, at most {MaxHeaderBytes} expected); " +
                "this is not a safetensors file or the download is incomplete — fetch it again");
        }
        var header = new byte[headerLength];
        ReadExactly(handle, header, 8, fileName, "the header");
        var dataOffset = 8 + (long)headerLength;

        var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(header);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{fileName}: the header is JSON {document.RootElement.ValueKind}, expected an object; this is not a safetensors file");
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    foreach (var pair in entry.Value.EnumerateObject())
                        metadata[pair.Name] = pair.Value.ValueKind == JsonValueKind.String ? pair.Value.GetString()! : pair.Value.GetRawText();
                    continue;
                }
                var info = ParseTensor(fileName, entry);
                if (dataOffset + info.DataEnd > length)
                {
                    throw new ModelFormatException(
                        $"{fileName}: tensor {info.Name} ends at byte {dataOffset + info.DataEnd}, past the end of the file ({length} bytes); " +
                        "the download is incomplete — fetch it again");
                }
                tensors[info.Name] = info;
            }
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{fileName}: the header is not valid JSON ({e.Message}); the file is corrupt — fetch it again", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelFormatException($"{fileName}: a header entry has the wrong JSON type ({e.Message}); the file is corrupt — fetch it again", e);
        }
        return new SafetensorsFile(path, dataOffset, tensors, metadata);
    }

    /// <summary>The tensor's raw little-endian bytes.</summary>
    public byte[] ReadBytes(string name)
    {
        var info = Tensor(name);
        var bytes = new byte[info.ByteCount];
        using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        ReadExactly(handle, bytes, DataOffset + info.DataBegin, FileName, "tensor " + name);
        return bytes;
    }

    /// <summary>The tensor's values widened to float32 (F32, F16 and BF16).</summary>
    public float[] ReadFloats(string name)
    {
        var info = Tensor(name);
        if (info.DType is not ("F32" or "F16" or "BF16"))
        {
            throw new ModelFormatException(
                $"{FileName}: tensor {name} has dtype {info.DType}, expected F32, F16 or BF16; " +
                "re-save the checkpoint in one of those (quantized safetensors are not supported)");
        }
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; big-endian hosts are not supported");

        var values = new float[info.ElementCount];
        using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var offset = DataOffset + info.DataBegin;
        if (info.DType == "F32")
        {
            ReadExactly(handle, MemoryMarshal.AsBytes(values.AsSpan()), offset, FileName, "tensor " + name);
            return values;
        }
        var chunk = new ushort[Math.Min(values.Length, ConvertChunkElements)];
        for (var start = 0; start < values.Length; start += chunk.Length)
        {
            var count = Math.Min(chunk.Length, values.Length - start);
            ReadExactly(handle, MemoryMarshal.AsBytes(chunk.AsSpan(0, count)), offset + 2L * start, FileName, "tensor " + name);
            var destination = values.AsSpan(start, count);
            if (info.DType == "F16")
            {
                for (var i = 0; i < count; i++)
                    destination[i] = (float)BitConverter.UInt16BitsToHalf(chunk[i]);
            }
            else
            {
                // bfloat16 is the top half of a float32.
                for (var i = 0; i < count; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(chunk[i] << 16);
            }
        }
        return values;
    }

    private static SafetensorsTensorInfo ParseTensor(string fileName, JsonProperty entry)
    {
        var name = entry.Name;
        var value = entry.Value;
        if (!value.TryGetProperty("dtype", out var dtypeElement) || !value.TryGetProperty("shape", out var shapeElement) ||
            !value.TryGetProperty("data_offsets", out var offsetsElement))
        {
            throw new ModelFormatException($"{fileName}: header entry {name} lacks dtype, shape or data_offsets; the file is corrupt — fetch it again");
        }
        var dtype = dtypeElement.GetString() ?? "";
        var shape = shapeElement.EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var offsets = offsetsElement.EnumerateArray().Select(o => o.GetInt64()).ToArray();
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || shape.Any(d => d < 0))
        {
            throw new ModelFormatException(
                $"{fileName}: tensor {name} has data_offsets [{string.Join(", ", offsets)}] and shape [{string.Join(", ", shape)}]; " +
                "expected two ascending offsets and non-negative dimensions — the file is corrupt, fetch it again");
        }
        var info = new SafetensorsTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
        var elementBytes = SafetensorsTensorInfo.ElementBytes(dtype);
        if (elementBytes > 0 && info.ElementCount * elementBytes != info.ByteCount)
        {
            throw new ModelFormatException(
                $"{fileName}: tensor {name} is {dtype} {info.DescribeShape()}, which needs {info.ElementCount * elementBytes} bytes, " +
                $"but its data_offsets span {info.ByteCount}; the file is corrupt — fetch it again");
        }
        return info;
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset, string fileName, string what)
    {
        while (destination.Length > 0)
        {
            var read = RandomAccess.Read(handle, destination, offset);
            if (read <= 0)
                throw new ModelFormatException($"{fileName}: {what} is cut short at byte {offset}; the download is incomplete — fetch it again");
            destination = destination[read..];
            offset += read;
        }
    }
}
