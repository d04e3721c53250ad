using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeNode.Models.Synthetic;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>
/// `generate --chat` end to end: a Hugging Face folder (random weights at a tiny shape with the real Llama-3 tokenizer
/// and its tokenizer_config.json) is converted by the binary, which must detect the Llama-3 format and feed the model
/// the very ids transformers' apply_chat_template gives for the same conversation.
/// </summary>
public sealed class ChatGenerateTests(AgentHome home) : IClassFixture<AgentHome>
{
    private static string Llama3Package => Path.Combine(TestPaths.RepoRoot, "node_modules", "@lenml", "tokenizer-llama3", "models");

    [Fact]
    public void Chat_prompt_ids_match_apply_chat_template_and_the_manifest_records_the_format()
    {
        using var dir = TestPaths.NewTempDirectory("chat-llama3");
        var weights = SyntheticCheckpoints.Generate(new Models.LlamaConfig(16, 32, 1, 2, 2, 128256, 64), 3);
        HuggingFaceFolderBuilder.Write(dir.Path, weights, "LlamaForCausalLM", tie: true);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(Llama3Package, file), Path.Combine(dir.Path, file));

        const string System = "Be brief.";
        const string Prompt = "Café — 日本語? 👍";
        var result = home.Run("generate", "--model", dir.Path, "--chat", "--system", System, "--prompt", Prompt,
            "--max-tokens", "3", "--temperature", "0", "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var report = JsonDocument.Parse(result.Stdout).RootElement;
        var promptTokens = report.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(PeerChatIds(System, Prompt), promptTokens);

        var manifests = Directory.GetFiles(home.Path, "manifest.json", SearchOption.AllDirectories);
        Assert.Contains(manifests, path => JsonDocument.Parse(File.ReadAllText(path)).RootElement.TryGetProperty("chat_template", out var t) && t.GetString() == "llama3");

        // Naming a format whose markers this tokenizer lacks is refused with the fix.
        var wrong = home.Run("generate", "--model", dir.Path, "--chat", "--chat-template", "gemma", "--prompt", "hi", "--max-tokens", "1");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("<start_of_turn>", wrong.Stderr, StringComparison.Ordinal);
        Assert.Contains("--chat-template", wrong.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_without_a_chat_format_needs_the_flag()
    {
        var result = home.Run("generate", "--model", TestPaths.Model("stories260K", "stories260K.bin"), "--chat", "--prompt", "hi", "--max-tokens", "1");
        // The format is known only once the checkpoint is converted, so conversion progress comes first.
        Assert.Equal(2, result.ExitCode);
        var last = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("edgenode: error: ", last, StringComparison.Ordinal);
        foreach (var fragment in new[] { "records no chat format", "--chat-template", "llama2, mistral, llama3, chatml, qwen3, gemma" })
            Assert.Contains(fragment, last, StringComparison.Ordinal);
    }

    [Fact]
    public void A_llama2c_model_chats_in_the_llama2_format()
    {
        var result = home.Run("generate", "--model", TestPaths.Model("stories260K", "stories260K.bin"), "--chat", "--chat-template", "llama2",
            "--system", "s", "--prompt", "hi", "--max-tokens", "2", "--temperature", "0", "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var promptTokens = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        // One BOS, first, and never spelled out as the characters "<s>".
        Assert.Equal(1, promptTokens[0]);
        Assert.Single(promptTokens, id => id == 1);
    }

    [Fact]
    public void A_llama2c_model_chats_in_the_zephyr_format_with_the_tokenizers_bos()
    {
        var result = home.Run("generate", "--model", TestPaths.Model("stories260K", "stories260K.bin"), "--chat", "--chat-template", "zephyr",
            "--system", "s", "--prompt", "hi", "--max-tokens", "2", "--temperature", "0", "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var promptTokens = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        // The text writes no BOS, so the tokenizer's comes first, once; each of the two messages ends with EOS (id 2).
        Assert.Equal(1, promptTokens[0]);
        Assert.Single(promptTokens, id => id == 1);
        Assert.Equal(2, promptTokens.Count(id => id == 2));
    }

    [Fact]
    public void Chat_flags_are_checked()
    {
        var model = TestPaths.Model("stories260K", "stories260K.bin");
        AssertOneLineError(home.Run("generate", "--model", model, "--chat", "--chat-template", "alpaca", "--prompt", "hi"), 2, "'alpaca'", "llama3", "gemma");
        AssertOneLineError(home.Run("generate", "--model", model, "--system", "x", "--prompt", "hi"), 2, "--chat");
    }

    private static int[] PeerChatIds(string system, string prompt)
    {
        var request = new MemoryStream();
        using (var writer = new Utf8JsonWriter(request))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("models");
            writer.WriteStartObject();
            writer.WriteString("name", "llama3");
            writer.WriteString("folder", Llama3Package);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteStartArray("cases");
            writer.WriteStartObject();
            writer.WriteStartArray("messages");
            foreach (var (role, content) in new[] { ("system", system), ("user", prompt) })
            {
                writer.WriteStartObject();
                writer.WriteString("role", role);
                writer.WriteString("content", content);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteBoolean("addGenerationPrompt", true);
            writer.WriteBoolean("enableThinking", true);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        var script = Path.Combine(TestPaths.RepoRoot, "tests", "EdgeNode.Models.Tests", "Chat", "peer", "chat-render.mjs");
        var answer = PeerProcess.RunNode(script, Encoding.UTF8.GetString(request.ToArray()));
        var rendered = JsonDocument.Parse(answer).RootElement.GetProperty("rendered").GetProperty("llama3")[0];
        return [.. rendered.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
    }

    private static void AssertOneLineError(AgentBinary.Result result, int exitCode, params string[] fragments)
    {
        Assert.Equal(exitCode, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got:\n{result.Stderr}");
        Assert.StartsWith("edgenode: error: ", lines[0], StringComparison.Ordinal);
        foreach (var fragment in fragments)
            Assert.Contains(fragment, lines[0], StringComparison.Ordinal);
    }
}
