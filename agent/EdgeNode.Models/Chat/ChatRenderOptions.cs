namespace EdgeNode.Models.Chat;

/// <summary>The switches a chat template reads besides the messages (Hugging Face's template variables).</summary>
public sealed record ChatRenderOptions
{
    /// <summary>End with the header of an assistant turn so the model writes the reply (add_generation_prompt).</summary>
    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>
    /// Qwen3 only: false renders an empty think block after the generation prompt, which tells the model to answer
    /// without reasoning first (enable_thinking=false).
    /// </summary>
    public bool EnableThinking { get; init; } = true;
}
