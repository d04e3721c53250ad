using EdgeNode.Models.Tokenizers.HuggingFace;

namespace EdgeNode.Models.Tokenizers;

/// <summary>Loads a model's tokenizer by file kind: tokenizer.json (Hugging Face) or a llama2.c tokenizer.bin.</summary>
public static class TextTokenizerLoader
{
    public static bool IsHuggingFace(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    public static ITextTokenizer Load(string path, int modelVocabSize)
    {
        if (!File.Exists(path))
            throw new ModelFormatException($"tokenizer {path} not found; pass --tokenizer with the model's own");
        if (!IsHuggingFace(path))
            return Llama2cTokenizer.Load(path, modelVocabSize);
        var tokenizer = HuggingFaceTokenizer.Load(path);
        // Hugging Face models often pad the embedding table beyond the tokenizer (Qwen: 151936 rows for
        // 151669 tokens); a tokenizer larger than the table cannot be right.
        if (tokenizer.VocabSize > modelVocabSize)
            throw new ModelFormatException($"{Path.GetFileName(path)} holds {tokenizer.VocabSize} tokens but the model's vocab_size is {modelVocabSize}: wrong tokenizer for this model; pass --tokenizer with the model's own");
        return tokenizer;
    }
}
