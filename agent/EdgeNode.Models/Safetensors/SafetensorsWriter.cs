using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace EdgeNode.Models.Safetensors;

/// <summary>
/// Writes safetensors files from float32 arrays, stored as F32, F16 or BF16. Tests use it to build Hugging Face
/// checkpoints of every family; tensors are written in the order added.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<(string Name, string DType, long[] Shape, float[] Values)> _tensors = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    public SafetensorsWriter Add(string name, float[] values, long[] shape, string dtype = "F32")
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(shape);
        if (dtype is not ("F32" or "F16" or "BF16"))
            throw new ArgumentException($"dtype {dtype} is not writable (F32, F16, BF16)", nameof(dtype));
        if (shape.Aggregate(1L, (p, d) => p * d) != values.LongLength)
            throw new ArgumentException($"tensor {name}: shape [{string.Join(", ", shape)}] does not hold {values.LongLength} values", nameof(shape));
        _tensors.Add((name, dtype, shape, values));
        return this;
    }

    public SafetensorsWriter AddMetadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    public IEnumerable<string> Names => _tensors.Select(t => t.Name);

    public void Write(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (_metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in _metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, values) in _tensors)
            {
                var bytes = values.LongLength * SafetensorsTensorInfo.ElementBytes(dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (var d in shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // The format pads the header with spaces to a multiple of 8 so the data section starts aligned.
        while (header.Length % 8 != 0)
            header.WriteByte((byte)' ');

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        header.Position = 0;
        header.CopyTo(stream);
        foreach (var (_, dtype, _, values) in _tensors)
            WriteValues(stream, dtype, values);
    }

    private static void WriteValues(Stream stream, string dtype, float[] values)
    {
        if (dtype == "F32")
        {
            if (!BitConverter.IsLittleEndian)
                throw new PlatformNotSupportedException("safetensors data is little-endian; big-endian hosts are not supported");
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }
        var narrow = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            var bits = dtype == "F16" ? BitConverter.HalfToUInt16Bits((Half)values[i]) : ToBFloat16(values[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(narrow.AsSpan(i * 2), bits);
        }
        stream.Write(narrow);
    }

    /// <summary>Round to nearest even on the dropped 16 bits, as PyTorch converts float32 to bfloat16.</summary>
    private static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x40);
        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
