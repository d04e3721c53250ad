using EdgeNode.Agent.Cli;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Gguf;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>A GGUF that names its chat template gets that format recorded when it is converted, unless the user chose one.</summary>
public sealed class CheckpointSourceTests
{
    [Theory]
    [InlineData("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}", "chatml")]
    [InlineData("{{ bos_token }}{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}", "mistral")]
    [InlineData("{% for m in messages %}{{ m.content }}{% endfor %}", null)]
    public void A_gguf_chat_template_is_detected_and_recorded_unless_one_was_chosen(string template, string? expected)
    {
        using var dir = TestPaths.NewTempDirectory("gguf-chat");
        var weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        var path = dir.File("model.gguf");
        GgufModelWriter.ForModel(weights, "llama", GgufTensorType.F32).Set("tokenizer.chat_template", template).Write(path);

        var source = CheckpointSource.Open(path, TestPaths.Model("stories260K", "tok512.bin"));
        Assert.Equal(expected, source.ChatTemplate);
        Assert.Equal(expected, ModelResolver.ForSource(source, new ConversionOptions()).ChatTemplate);
        Assert.Equal("llama2", ModelResolver.ForSource(source, new ConversionOptions { ChatTemplate = "llama2" }).ChatTemplate);
    }
}
