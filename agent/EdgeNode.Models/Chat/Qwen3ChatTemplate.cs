using System.Text;

namespace EdgeNode.Models.Chat;

/// <summary>
/// Qwen3: ChatML plus its reasoning rules. An assistant message may carry "&lt;think&gt;…&lt;/think&gt;" before its
/// answer; the reasoning is kept only for assistant turns after the last real user query (the turns of the answer
/// being built, e.g. around tool calls) and dropped from earlier turns, as the model was trained. Tool results are
/// wrapped in &lt;tool_response&gt; inside a user turn. With thinking disabled the generation prompt carries an
/// empty think block, which makes the model answer directly.
/// </summary>
public sealed class Qwen3ChatTemplate : ChatTemplate
{
    private const string ThinkOpen = "<think>", ThinkClose = "</think>";
    private const string ToolResponseOpen = "<tool_response>", ToolResponseClose = "</tool_response>";

    public override string Name => "qwen3";

    public override IReadOnlyList<string> Roles { get; } = ["system", "user", "assistant", "tool"];

    public override IReadOnlyList<string> SpecialTokens { get; } = ["<|im_start|>", "<|im_end|>"];

    public override IReadOnlyList<string> EndOfTurnTokens { get; } = ["<|im_end|>"];

    protected override void Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options, StringBuilder text)
    {
        if (messages.Count > 0 && messages[0].Role == "system")
            text.Append("<|im_start|>system\n").Append(messages[0].Content).Append("<|im_end|>\n");

        var lastQuery = LastQueryIndex(messages);
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            switch (message.Role)
            {
                case "system" when i == 0:
                    break;
                case "user" or "system":
                    text.Append("<|im_start|>").Append(message.Role).Append('\n').Append(message.Content).Append("<|im_end|>\n");
                    break;
                case "assistant":
                    AppendAssistant(message.Content, keepReasoning: i > lastQuery, isLast: i == messages.Count - 1, text);
                    break;
                case "tool":
                    // Consecutive tool results share one user turn.
                    if (i == 0 || messages[i - 1].Role != "tool")
                        text.Append("<|im_start|>user");
                    text.Append('\n').Append(ToolResponseOpen).Append('\n').Append(message.Content).Append('\n').Append(ToolResponseClose);
                    if (i == messages.Count - 1 || messages[i + 1].Role != "tool")
                        text.Append("<|im_end|>\n");
                    break;
            }
        }
        if (options.AddGenerationPrompt)
        {
            text.Append("<|im_start|>assistant\n");
            if (!options.EnableThinking)
                text.Append(ThinkOpen).Append("\n\n").Append(ThinkClose).Append("\n\n");
        }
    }

    /// <summary>
    /// The last user message that is a real query rather than a tool result passed back as user text; the last
    /// message's index when there is none.
    /// </summary>
    private static int LastQueryIndex(IReadOnlyList<ChatMessage> messages)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            var content = messages[i].Content;
            if (messages[i].Role == "user" && !(content.StartsWith(ToolResponseOpen, StringComparison.Ordinal) && content.EndsWith(ToolResponseClose, StringComparison.Ordinal)))
                return i;
        }
        return messages.Count - 1;
    }

    private static void AppendAssistant(string content, bool keepReasoning, bool isLast, StringBuilder text)
    {
        var reasoning = string.Empty;
        var close = content.IndexOf(ThinkClose, StringComparison.Ordinal);
        if (close >= 0)
        {
            // The answer is what follows the last </think>; the reasoning what precedes the first one, after its
            // last <think>.
            var before = content[..close].TrimEnd('\n');
            var open = before.LastIndexOf(ThinkOpen, StringComparison.Ordinal);
            reasoning = (open >= 0 ? before[(open + ThinkOpen.Length)..] : before).TrimStart('\n');
            content = content[(content.LastIndexOf(ThinkClose, StringComparison.Ordinal) + ThinkClose.Length)..].TrimStart('\n');
        }
        text.Append("<|im_start|>assistant\n");
        if (keepReasoning && (isLast || reasoning.Length > 0))
            text.Append(ThinkOpen).Append('\n').Append(reasoning.Trim('\n')).Append('\n').Append(ThinkClose).Append("\n\n").Append(content.TrimStart('\n'));
        else
            text.Append(content);
        text.Append("<|im_end|>\n");
    }
}
