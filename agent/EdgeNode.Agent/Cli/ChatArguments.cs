using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Chat;

namespace EdgeNode.Agent.Cli;

/// <summary>`generate --chat`: the prompt becomes a user message in the model's chat format.</summary>
public sealed record ChatArguments(bool Enabled, string? System, string? TemplateName, bool Thinking)
{
    public const string Help = """
          --chat             treat --prompt as a user message and wrap it in the model's chat format
          --system TEXT      with --chat: a system message before the prompt
          --chat-template F  with --chat: the format (llama2, mistral, llama3, chatml, qwen3, gemma, zephyr; default: the model's)
          --no-thinking      with --chat and qwen3: ask for an answer without reasoning first

        """;

    public static ChatArguments Read(ArgumentReader args)
    {
        var chat = new ChatArguments(args.Flag("chat"), args.String("system"), args.String("chat-template"), !args.Flag("no-thinking"));
        if (!chat.Enabled && (chat.System is not null || chat.TemplateName is not null || !chat.Thinking))
            throw new UsageException("--system, --chat-template and --no-thinking only apply to chat prompts: add --chat");
        if (chat.TemplateName is not null)
        {
            try
            {
                _ = ChatTemplates.Get(chat.TemplateName);
            }
            catch (ChatTemplateException e)
            {
                throw new UsageException($"--chat-template: {e.Message}");
            }
        }
        return chat;
    }

    /// <summary>
    /// The chat format: --chat-template, else the one recorded in the model's manifest, else the one its
    /// tokenizer_config.json names (folders converted before manifests recorded it).
    /// </summary>
    public ChatTemplate TemplateFor(LocalModel model)
    {
        var name = TemplateName ?? model.Manifest.ChatTemplate;
        if (name is null)
        {
            var config = Path.Combine(model.Folder, "tokenizer_config.json");
            name = File.Exists(config) ? ChatTemplates.DetectInTokenizerConfig(config) : null;
        }
        if (name is null)
            throw new UsageException($"{model.Folder} records no chat format; pass --chat-template with one of {string.Join(", ", ChatTemplates.Names)}");
        return ChatTemplates.Get(name);
    }

    /// <summary>The prompt ids and the end-of-turn ids for <paramref name="prompt"/> as a user message.</summary>
    public (int[] PromptTokens, IReadOnlySet<int> EndOfTurn) Encode(LocalModel model, string prompt)
    {
        var template = TemplateFor(model);
        var messages = new List<ChatMessage>();
        if (System is not null)
            messages.Add(ChatMessage.System(System));
        messages.Add(ChatMessage.User(prompt));
        var text = template.Render(messages, new ChatRenderOptions { AddGenerationPrompt = true, EnableThinking = Thinking });
        return (ChatPromptEncoder.Encode(model.Tokenizer, template, text), ChatPromptEncoder.EndOfTurnIds(model.Tokenizer, template));
    }
}
