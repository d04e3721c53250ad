namespace EdgeNode.Agent.Cli;

/// <summary>
/// The models in a folder given to `serve --models DIR`, each named after its folder or its file without the
/// extension: converted folders (manifest.json), Hugging Face folders (config.json), llama2.c folders (one
/// checkpoint and its tokenizer), and .gguf or llama2.c .bin files with a tokenizer beside. Anything else is
/// reported as skipped, with the reason, rather than failing later on a request.
/// </summary>
public static class ServedModelFolder
{
    private static readonly string[] s_tokenizerNames = ["tokenizer.bin", "tok512.bin"];

    public sealed record Entry(string Id, string Path);

    public static (List<Entry> Models, List<string> Skipped) Find(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"models folder {folder} not found; pass an existing folder to --models");
        var models = new List<Entry>();
        var skipped = new List<string>();
        foreach (var dir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (name.StartsWith('.') || name.EndsWith(".partial", StringComparison.Ordinal) || name.EndsWith(".scratch", StringComparison.Ordinal))
                continue;
            if (File.Exists(System.IO.Path.Combine(dir, "manifest.json")) || File.Exists(System.IO.Path.Combine(dir, "config.json")))
            {
                models.Add(new Entry(name, dir));
                continue;
            }
            var checkpoints = Llama2cCheckpoints(dir);
            if (checkpoints.Count == 1 && HasTokenizer(dir))
                models.Add(new Entry(name, dir));
            else
                skipped.Add(checkpoints.Count switch
                {
                    0 => $"{dir}: no manifest.json, config.json or llama2.c checkpoint",
                    1 => $"{dir}: no tokenizer.bin or tok512.bin beside the checkpoint",
                    _ => $"{dir}: several checkpoints ({string.Join(", ", checkpoints.Select(System.IO.Path.GetFileName))}); serve each with --model",
                });
        }
        foreach (var file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            var id = System.IO.Path.GetFileNameWithoutExtension(file);
            if (file.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                models.Add(new Entry(id, file));
            else if (IsLlama2cCheckpoint(file))
            {
                if (HasTokenizer(folder))
                    models.Add(new Entry(id, file));
                else
                    skipped.Add($"{file}: no tokenizer.bin or tok512.bin beside the checkpoint");
            }
        }
        return (models, skipped);
    }

    /// <summary>The name a model given by --model PATH is served under: its folder or file name without the extension.</summary>
    public static string IdOf(string path)
    {
        var trimmed = path.TrimEnd('/');
        return File.Exists(trimmed) ? System.IO.Path.GetFileNameWithoutExtension(trimmed) : System.IO.Path.GetFileName(trimmed);
    }

    private static List<string> Llama2cCheckpoints(string dir) => [.. Directory.GetFiles(dir).Where(IsLlama2cCheckpoint).Order(StringComparer.Ordinal)];

    // A llama2.c header alone is 28 bytes; tokenizers share the extension and are told apart by name.
    private static bool IsLlama2cCheckpoint(string file) =>
        file.EndsWith(".bin", StringComparison.Ordinal) && !s_tokenizerNames.Contains(System.IO.Path.GetFileName(file)) && new FileInfo(file).Length > 28;

    private static bool HasTokenizer(string dir) => s_tokenizerNames.Any(n => File.Exists(System.IO.Path.Combine(dir, n)));
}
