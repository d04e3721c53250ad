using System.Text;

namespace EdgeNode.Models.Gguf;

/// <summary>
/// Writes the SentencePiece-style tokenizer embedded in a GGUF file (tokenizer.ggml.model "llama": pieces,
/// scores, token types) as a llama2.c tokenizer.bin, the inverse of what the GGUF exporter embeds: '▁' back
/// to ' ', BOS/EOS pieces back to "\n&lt;s&gt;\n" / "\n&lt;/s&gt;\n". Byte pieces keep their "&lt;0xNN&gt;" text,
/// which is how llama2.c tokenizers store them too.
/// </summary>
public static class GgufTokenizerExtractor
{
    private const int ControlTokenType = 3;

    public static void WriteLlama2cTokenizer(string ggufPath, string outPath)
    {
        var gguf = GgufFile.Open(ggufPath);
        var name = Path.GetFileName(ggufPath);
        var model = gguf.Metadata.TryGetValue("tokenizer.ggml.model", out var m) ? m as string : null;
        if (model != "llama")
            throw new ModelFormatException($"{name}: tokenizer.ggml.model is '{model ?? "missing"}', not 'llama' (SentencePiece); convert this model from its Hugging Face folder, whose tokenizer.json EdgeNode reads");
        if (gguf.Metadata.GetValueOrDefault("tokenizer.ggml.tokens") is not string[] tokens)
            throw new ModelFormatException($"{name}: tokenizer.ggml.tokens is missing or not a string array; the file has no usable tokenizer");
        var scores = gguf.Metadata.GetValueOrDefault("tokenizer.ggml.scores") as float[] ?? new float[tokens.Length];
        var types = gguf.Metadata.GetValueOrDefault("tokenizer.ggml.token_type") as int[] ?? new int[tokens.Length];
        if (scores.Length != tokens.Length || types.Length != tokens.Length)
            throw new ModelFormatException($"{name}: {tokens.Length} tokens but {scores.Length} scores and {types.Length} token types; the tokenizer is corrupt");

        var pieces = new byte[tokens.Length][];
        for (var i = 0; i < tokens.Length; i++)
        {
            var text = types[i] == ControlTokenType && tokens[i] is "<s>" or "</s>"
                ? $"\n{tokens[i]}\n"
                : tokens[i].Replace('\u2581', ' ');
            pieces[i] = Encoding.UTF8.GetBytes(text);
        }
        using var output = new BinaryWriter(File.Create(outPath));
        output.Write(pieces.Max(p => p.Length));
        for (var i = 0; i < pieces.Length; i++)
        {
            output.Write(scores[i]);
            output.Write(pieces[i].Length);
            output.Write(pieces[i]);
        }
    }
}
