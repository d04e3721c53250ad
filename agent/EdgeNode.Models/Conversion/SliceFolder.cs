namespace EdgeNode.Models.Conversion;

/// <summary>
/// A folder that holds some slices of one converted model: its manifest.json lists exactly the slices and files that
/// are there. Slices arrive one build or fetch at a time; each records itself here.
/// </summary>
public static class SliceFolder
{
    /// <summary>
    /// Adds what <paramref name="held"/> lists to the folder's manifest (replacing entries of the same slice or file) and
    /// saves it; a folder without a manifest gets <paramref name="held"/> as it is. Returns the manifest now on disk.
    /// </summary>
    /// <exception cref="ArgumentException">The folder already holds slices of another model or conversion.</exception>
    public static ModelManifest Record(string folder, ModelManifest held)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(held);
        var path = Path.Combine(folder, ModelManifest.FileName);
        if (!File.Exists(path))
        {
            held.Save(folder);
            return held;
        }
        var existing = ModelManifest.Load(folder);
        if (Describe(existing) != Describe(held))
        {
            throw new ArgumentException(
                $"{folder} holds slices of {Describe(existing)}, not {Describe(held)}; put slices of another model or conversion in their own folder");
        }
        var slices = existing.Slices.Where(s => !held.Slices.Exists(h => h.File == s.File)).Concat(held.Slices)
            .OrderBy(s => s.FirstLayer).ThenBy(s => s.Embed ? 0 : 1).ThenBy(s => s.EndLayer).ToList();
        var files = existing.Files.Where(f => !held.Files.Exists(h => h.Path == f.Path)).Concat(held.Files)
            .OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        existing.Slices = slices;
        existing.Files = files;
        if (existing.Tokenizer.Length == 0)
            existing.Tokenizer = held.Tokenizer;
        existing.ChatTemplate ??= held.ChatTemplate;
        existing.Save(folder);
        return existing;
    }

    /// <summary>What makes two manifests the same conversion: name, shape and how the weights were stored.</summary>
    private static string Describe(ModelManifest m) =>
        $"{m.Name} ({m.Architecture}, dim {m.Config.Dim}, {m.Config.Layers} layers, vocab {m.Config.VocabSize}, {m.Precision}"
        + (m.BlockSize > 0 ? $" block {m.BlockSize}" : "") + $", kv {m.KvPrecision.ToName()})";
}
