using System.Text;

namespace EdgeNode.Models.Chat;

/// <summary>
/// Mistral-7B-Instruct (SentencePiece tokenizer v1): "&lt;s&gt;[INST] question [/INST]answer&lt;/s&gt; [INST] next
/// question [/INST]", as its model card lays it out. The format has no system role; a leading system message is put
/// in front of the first user turn, separated by a blank line, as Mistral's own tooling does.
/// </summary>
public sealed class MistralChatTemplate : ChatTemplate
{
    public override string Name => "mistral";

    public override IReadOnlyList<string> SpecialTokens { get; } = ["<s>", "</s>"];

    public override IReadOnlyList<string> EndOfTurnTokens { get; } = ["</s>"];

    protected override void Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options, StringBuilder text)
    {
        var first = messages.Count > 0 && messages[0].Role == "system" ? 1 : 0;
        RequireAlternation(messages, first);
        text.Append("<s>");
        for (var i = first; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Role == "assistant")
            {
                text.Append(message.Content).Append("</s>");
                continue;
            }
            if (i > first)
                text.Append(' ');
            text.Append("[INST] ");
            if (i == first && first == 1)
                text.Append(messages[0].Content).Append("\n\n");
            text.Append(message.Content).Append(" [/INST]");
        }
    }
}
