using System.Text;

namespace EdgeNode.Models.Chat;

/// <summary>
/// Gemma (2 and 3): &lt;bos&gt;, then "&lt;start_of_turn&gt;user\n…&lt;end_of_turn&gt;\n" turns where the assistant is
/// called "model". There is no system turn: a leading system message is put, with a blank line, at the start of
/// the first user turn. Turn contents are trimmed; the system text is not.
/// </summary>
public sealed class GemmaChatTemplate : ChatTemplate
{
    public override string Name => "gemma";

    public override IReadOnlyList<string> SpecialTokens { get; } = ["<bos>", "<start_of_turn>", "<end_of_turn>"];

    public override IReadOnlyList<string> EndOfTurnTokens { get; } = ["<end_of_turn>"];

    protected override void Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options, StringBuilder text)
    {
        var first = messages.Count > 0 && messages[0].Role == "system" ? 1 : 0;
        RequireAlternation(messages, first);
        text.Append("<bos>");
        for (var i = first; i < messages.Count; i++)
        {
            text.Append("<start_of_turn>").Append(messages[i].Role == "assistant" ? "model" : messages[i].Role).Append('\n');
            if (i == first && first == 1)
                text.Append(messages[0].Content).Append("\n\n");
            text.Append(Trim(messages[i].Content)).Append("<end_of_turn>\n");
        }
        if (options.AddGenerationPrompt)
            text.Append("<start_of_turn>model\n");
    }
}
