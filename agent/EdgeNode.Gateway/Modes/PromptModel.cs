using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Gateway.Modes;

/// <summary>
/// What rendering a request needs of a model: its tokenizer, its manifest (the chat format it records) and its folder
/// (a tokenizer_config.json naming the format). A loaded model has them; so has a model that only the pool runs,
/// whose tokenizer this node loads without its weights.
/// </summary>
public sealed record PromptModel(ITextTokenizer Tokenizer, ModelManifest Manifest, string Folder)
{
    public static PromptModel Of(LocalModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new PromptModel(model.Tokenizer, model.Manifest, model.Folder);
    }

    /// <summary>The tokenizer and manifest of a converted folder, without opening any weights.</summary>
    public static PromptModel Load(string folder)
    {
        var manifest = ModelManifest.Load(folder);
        var config = manifest.ToLlamaConfig();
        return new PromptModel(TextTokenizerLoader.Load(Path.Combine(folder, manifest.Tokenizer), config.VocabSize), manifest, folder);
    }
}
