using System.Text;

namespace EdgeNode.Models.Chat;

/// <summary>
/// Llama-2-chat: every user turn is "&lt;s&gt;[INST] … [/INST]", every reply " … &lt;/s&gt;"; a system message goes
/// into the first user turn inside &lt;&lt;SYS&gt;&gt; markers. The format always ends open for a reply after a user
/// turn, so there is no separate generation prompt.
/// </summary>
public sealed class Llama2ChatTemplate : ChatTemplate
{
    public override string Name => "llama2";

    public override IReadOnlyList<string> SpecialTokens { get; } = ["<s>", "</s>"];

    public override IReadOnlyList<string> EndOfTurnTokens { get; } = ["</s>"];

    protected override void Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options, StringBuilder text)
    {
        var first = messages.Count > 0 && messages[0].Role == "system" ? 1 : 0;
        RequireAlternation(messages, first);
        for (var i = first; i < messages.Count; i++)
        {
            var content = messages[i].Content;
            if (i == first && first == 1)
                content = "<<SYS>>\n" + messages[0].Content + "\n<</SYS>>\n\n" + content;
            if (messages[i].Role == "user")
                text.Append("<s>[INST] ").Append(Trim(content)).Append(" [/INST]");
            else
                text.Append(' ').Append(Trim(content)).Append(" </s>");
        }
    }
}
