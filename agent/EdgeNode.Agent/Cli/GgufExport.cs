using EdgeNode.Models.Gguf;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Agent.Cli;

/// <summary>Writes a checkpoint as GGUF so llama.cpp (node-llama-cpp) runs the very same weights.</summary>
public static class GgufExport
{
    public static void Write(CheckpointSource source, string outPath, GgufTensorType type, TextWriter log)
    {
        var scratch = outPath + ".scratch";
        Directory.CreateDirectory(scratch);
        try
        {
            var weights = source.ReadWeights();
            var tokenizerPath = source.TokenizerPath(scratch);
            if (TextTokenizerLoader.IsHuggingFace(tokenizerPath))
                throw new ArgumentException($"GGUF export embeds a SentencePiece (llama2.c) tokenizer; {tokenizerPath} is a tokenizer.json");
            var tokenizer = Llama2cTokenizer.Load(tokenizerPath, weights.Config.VocabSize);
            var partial = outPath + ".partial";
            GgufExporter.Export(weights, tokenizer, partial, type, new PercentProgress(log, $"edgenode: export {type}"), source.Name);
            File.Move(partial, outPath, overwrite: true);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
