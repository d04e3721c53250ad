using EdgeNode.Models.Chat;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Synthetic;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Chat;

/// <summary>The converter records the chat format in manifest.json: detected from tokenizer_config.json, or as chosen.</summary>
public sealed class ChatTemplateConversionTests
{
    // Random weights at a tiny shape with the real Llama-3 vocabulary, so the real tokenizer.json fits.
    private static readonly LlamaConfig Llama3Vocabulary = new(16, 32, 1, 2, 2, 128256, 32);

    private static string Llama3Tokenizer => Path.Combine(TestPaths.RepoRoot, "node_modules", "@lenml", "tokenizer-llama3", "models", "tokenizer.json");

    [Fact]
    public void The_format_is_detected_from_tokenizer_config_json()
    {
        using var dir = TestPaths.NewTempDirectory("chat-detect");
        var manifest = ModelConverter.Convert(SyntheticCheckpoints.Generate(Llama3Vocabulary, 1), Llama3Tokenizer, dir.Path, new ConversionOptions { Name = "t" });
        Assert.Equal("llama3", manifest.ChatTemplate);
        Assert.Equal("llama3", ModelManifest.Load(dir.Path).ChatTemplate);
    }

    [Fact]
    public void A_chosen_format_wins_and_an_unknown_one_is_refused()
    {
        using var dir = TestPaths.NewTempDirectory("chat-chosen");
        var weights = SyntheticCheckpoints.Generate(Llama3Vocabulary, 1);
        Assert.Equal("chatml", ModelConverter.Convert(weights, Llama3Tokenizer, dir.Path, new ConversionOptions { Name = "t", ChatTemplate = "ChatML" }).ChatTemplate);
        var error = Assert.Throws<ChatTemplateException>(() => ModelConverter.Convert(weights, Llama3Tokenizer, dir.Path, new ConversionOptions { Name = "t", ChatTemplate = "alpaca" }));
        Assert.Contains("'alpaca'", error.Message);
    }

    [Fact]
    public void A_model_without_a_chat_template_records_none()
    {
        using var dir = TestPaths.NewTempDirectory("chat-none");
        var manifest = ModelConverter.Convert(TestPaths.Model("stories260K", "stories260K.bin"), TestPaths.Model("stories260K", "tok512.bin"), dir.Path, new ConversionOptions());
        Assert.Null(manifest.ChatTemplate);
        Assert.DoesNotContain("chat_template", File.ReadAllText(Path.Combine(dir.Path, ModelManifest.FileName)));
    }
}
