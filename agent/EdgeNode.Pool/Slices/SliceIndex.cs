using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Pool.Slices;

/// <summary>
/// What a serving node offers of one model: every file its manifest lists and it holds, each with its size, its
/// sha256 and the sha256 of each of its chunks (<see cref="ChunkBytes"/> each, the last one shorter). A fetching node
/// takes a file's chunks from this list only when the file's size and sha256 equal those the model's owner published
/// in the manifest; the chunk hashes then let it check each chunk as it arrives and resume from the chunks it holds.
/// </summary>
public sealed class SliceIndex
{
    public const string CurrentFormat = "edgenode-slice-index/1";

    public string Format { get; set; } = CurrentFormat;

    /// <summary>The name the server serves the model under.</summary>
    public required string Model { get; set; }

    /// <summary>sha256 of the manifest.json bytes the server serves for this model.</summary>
    public required string ManifestSha256 { get; set; }

    public int ChunkBytes { get; set; }

    public required List<SliceIndexFile> Files { get; set; }

    public SliceIndexFile? Find(string path) => Files.Find(f => f.Path == path);

    /// <summary>
    /// Hashes every file <paramref name="folder"/>'s manifest lists. A file that is missing, or whose size or sha256
    /// differs from its manifest entry, is left out (and reported through <paramref name="skipped"/>): a server never
    /// offers what its own manifest does not vouch for.
    /// </summary>
    public static SliceIndex Build(string model, string folder, int chunkBytes = SliceWire.DefaultChunkBytes, Action<string>? skipped = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 4096);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkBytes, SliceWire.MaxResponseBody);
        var manifestBytes = File.ReadAllBytes(Path.Combine(folder, ModelManifest.FileName));
        var manifest = ModelManifest.Parse(manifestBytes, Path.Combine(folder, ModelManifest.FileName));
        var files = new List<SliceIndexFile>(manifest.Files.Count);
        var buffer = ArrayPool<byte>.Shared.Rent(chunkBytes);
        try
        {
            foreach (var entry in manifest.Files)
            {
                var path = Path.Combine(folder, entry.Path);
                if (Path.GetFileName(entry.Path) != entry.Path || !File.Exists(path))
                {
                    skipped?.Invoke($"{model}: {entry.Path} is in the manifest but not in {folder}");
                    continue;
                }
                var file = HashFile(path, entry.Path, chunkBytes, buffer);
                if (file.Bytes != entry.Bytes || file.Sha256 != entry.Sha256)
                {
                    skipped?.Invoke($"{model}: {entry.Path} in {folder} has {file.Bytes} bytes, sha256 {file.Sha256}; its manifest says {entry.Bytes} bytes, sha256 {entry.Sha256}");
                    continue;
                }
                files.Add(file);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new SliceIndex { Model = model, ManifestSha256 = Sha256Hex(manifestBytes), ChunkBytes = chunkBytes, Files = files };
    }

    public static SliceIndex Parse(ReadOnlySpan<byte> json, string source)
    {
        SliceIndex? index;
        try
        {
            index = JsonSerializer.Deserialize(json, SliceIndexJsonContext.Default.SliceIndex);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{source}: the slice index is not valid JSON ({e.Message})");
        }
        if (index is null || index.Format != CurrentFormat)
            throw new ModelFormatException($"{source}: slice index format '{index?.Format}' is not {CurrentFormat}; update the node that sent it");
        if (index.ChunkBytes < 4096 || index.ChunkBytes > SliceWire.MaxResponseBody)
            throw new ModelFormatException($"{source}: chunk size {index.ChunkBytes} is outside 4096..{SliceWire.MaxResponseBody}");
        foreach (var file in index.Files)
        {
            var expected = file.Bytes == 0 ? 0 : (file.Bytes + index.ChunkBytes - 1) / index.ChunkBytes;
            if (file.Bytes < 0 || file.Chunks.Count != expected || file.Chunks.Exists(c => c.Length != 64) || file.Sha256.Length != 64)
                throw new ModelFormatException($"{source}: entry {file.Path} lists {file.Chunks.Count} chunks for {file.Bytes} bytes at {index.ChunkBytes} per chunk (or a malformed hash)");
        }
        return index;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, SliceIndexJsonContext.Default.SliceIndex);

    internal static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static SliceIndexFile HashFile(string path, string name, int chunkBytes, byte[] buffer)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var length = RandomAccess.GetLength(handle);
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunks = new List<string>((int)((length + chunkBytes - 1) / chunkBytes));
        for (long offset = 0; offset < length; offset += chunkBytes)
        {
            var count = (int)Math.Min(chunkBytes, length - offset);
            var span = buffer.AsSpan(0, count);
            ReadExactly(handle, span, offset, path);
            whole.AppendData(span);
            chunks.Add(Sha256Hex(span));
        }
        return new SliceIndexFile { Path = name, Bytes = length, Sha256 = Convert.ToHexStringLower(whole.GetHashAndReset()), Chunks = chunks };
    }

    internal static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> destination, long offset, string path)
    {
        while (destination.Length > 0)
        {
            var read = RandomAccess.Read(handle, destination, offset);
            if (read <= 0)
                throw new IOException($"{path}: ends at byte {offset}, before the bytes its index counts; the file changed while it was served");
            destination = destination[read..];
            offset += read;
        }
    }
}

public sealed class SliceIndexFile
{
    public required string Path { get; set; }
    public long Bytes { get; set; }
    public required string Sha256 { get; set; }

    /// <summary>sha256 (lower-case hex) of each chunk in order.</summary>
    public required List<string> Chunks { get; set; }

    public long ChunkOffset(int chunk, int chunkBytes) => (long)chunk * chunkBytes;

    public int ChunkLength(int chunk, int chunkBytes) => (int)Math.Min(chunkBytes, Bytes - ChunkOffset(chunk, chunkBytes));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SliceIndex))]
internal sealed partial class SliceIndexJsonContext : JsonSerializerContext;
