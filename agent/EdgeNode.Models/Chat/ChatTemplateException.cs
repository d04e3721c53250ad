namespace EdgeNode.Models.Chat;

/// <summary>A chat template that does not exist, or a conversation a template cannot render.</summary>
public sealed class ChatTemplateException(string message) : ArgumentException(message);
