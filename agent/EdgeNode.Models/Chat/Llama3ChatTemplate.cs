using System.Text;

namespace EdgeNode.Models.Chat;

/// <summary>
/// Llama-3-Instruct: each message is a "&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;" header, a blank line,
/// the trimmed content and "&lt;|eot_id|&gt;"; the first one is preceded by &lt;|begin_of_text|&gt;.
/// </summary>
public sealed class Llama3ChatTemplate : ChatTemplate
{
    public override string Name => "llama3";

    public override IReadOnlyList<string> Roles { get; } = ["system", "user", "assistant", "tool", "ipython"];

    public override IReadOnlyList<string> SpecialTokens { get; } = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];

    public override IReadOnlyList<string> EndOfTurnTokens { get; } = ["<|eot_id|>"];

    protected override void Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options, StringBuilder text)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            if (i == 0)
                text.Append("<|begin_of_text|>");
            text.Append("<|start_header_id|>").Append(messages[i].Role).Append("<|end_header_id|>\n\n")
                .Append(Trim(messages[i].Content)).Append("<|eot_id|>");
        }
        if (options.AddGenerationPrompt)
            text.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
    }
}
