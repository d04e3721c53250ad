using System.Text;

namespace EdgeNode.Models.Chat;

/// <summary>
/// One chat prompt format, written out in code: the same text the model family's published Jinja template renders
/// for plain text conversations, with the same refusals for role orders the format cannot express.
/// </summary>
public abstract class ChatTemplate
{
    /// <summary>The name used on the command line and in manifest.json (e.g. "llama3").</summary>
    public abstract string Name { get; }

    /// <summary>Roles this format can render: system, user and assistant unless the format knows more (tools).</summary>
    public virtual IReadOnlyList<string> Roles { get; } = ["system", "user", "assistant"];

    /// <summary>Special-token text the rendered prompt contains; each must be a single token of the model's tokenizer.</summary>
    public abstract IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>Tokens that end an assistant turn, so generation stops there.</summary>
    public abstract IReadOnlyList<string> EndOfTurnTokens { get; }

    /// <summary>
    /// The rendered text carries no BOS of its own and the tokenizer's start-of-text token goes first, as the
    /// format's published template expects; formats that write their BOS as text keep this false so it is not doubled.
    /// </summary>
    public virtual bool TokenizerAddsBos => false;

    /// <summary>The prompt text for <paramref name="messages"/>; special tokens appear as their text.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new ChatTemplateException($"{Name} chat template: message {i + 1} is null");
            if (!Roles.Contains(message.Role, StringComparer.Ordinal))
                throw Refuse(i, messages, $"role '{message.Role}' is not one of {string.Join(", ", Roles)}");
            if (message.Content is null)
                throw Refuse(i, messages, "its content is null");
        }
        var text = new StringBuilder();
        Render(messages, options ?? new ChatRenderOptions(), text);
        return text.ToString();
    }

    protected abstract void Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options, StringBuilder text);

    /// <summary>The error for message <paramref name="index"/>, naming it and the reason.</summary>
    protected ChatTemplateException Refuse(int index, IReadOnlyList<ChatMessage> messages, string why) =>
        new($"{Name} chat template cannot render message {index + 1} of {messages.Count} (role '{messages[index]?.Role}'): {why}");

    /// <summary>
    /// The Llama-2, Mistral and Gemma rule: after an optional leading system message, turns go user, assistant,
    /// user, ... — the published templates raise an exception otherwise.
    /// </summary>
    protected void RequireAlternation(IReadOnlyList<ChatMessage> messages, int first)
    {
        for (var i = first; i < messages.Count; i++)
        {
            var expected = (i - first) % 2 == 0 ? "user" : "assistant";
            if (messages[i].Role == "system")
                throw Refuse(i, messages, "a system message may only come first");
            if (messages[i].Role != expected)
                throw Refuse(i, messages, $"turns must alternate user/assistant starting with user, so this one must be {expected}");
        }
    }

    /// <summary>Whitespace trimmed from both ends as Jinja's trim filter does.</summary>
    protected static string Trim(string text) => text.Trim();
}
