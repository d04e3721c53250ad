using System.Text;

namespace EdgeNode.Models.Chat;

/// <summary>
/// ChatML (Qwen2, Qwen2.5, SmolLM2): "&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n" per message and
/// "&lt;|im_start|&gt;assistant\n" as the generation prompt. Content is kept exactly as given.
/// </summary>
public sealed class ChatMlTemplate : ChatTemplate
{
    public override string Name => "chatml";

    public override IReadOnlyList<string> SpecialTokens { get; } = ["<|im_start|>", "<|im_end|>"];

    public override IReadOnlyList<string> EndOfTurnTokens { get; } = ["<|im_end|>"];

    protected override void Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options, StringBuilder text)
    {
        foreach (var message in messages)
            text.Append("<|im_start|>").Append(message.Role).Append('\n').Append(message.Content).Append("<|im_end|>\n");
        if (options.AddGenerationPrompt)
            text.Append("<|im_start|>assistant\n");
    }
}
