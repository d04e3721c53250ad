using System.Text;

namespace EdgeNode.Models.Chat;

/// <summary>
/// Zephyr (TinyLlama-1.1B-Chat): "&lt;|role|&gt;\ncontent&lt;/s&gt;\n" per message and "&lt;|assistant|&gt;\n" as the
/// generation prompt. The role markers are plain text in the Llama-2 vocabulary (several tokens each); only the
/// end-of-sequence token after every message is special. The template writes no BOS: the tokenizer adds it.
/// </summary>
public sealed class ZephyrChatTemplate : ChatTemplate
{
    public override string Name => "zephyr";

    public override IReadOnlyList<string> SpecialTokens { get; } = ["</s>"];

    public override IReadOnlyList<string> EndOfTurnTokens { get; } = ["</s>"];

    public override bool TokenizerAddsBos => true;

    protected override void Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options, StringBuilder text)
    {
        foreach (var message in messages)
            text.Append("<|").Append(message.Role).Append("|>\n").Append(message.Content).Append("</s>\n");
        if (options.AddGenerationPrompt)
            text.Append("<|assistant|>\n");
    }
}
