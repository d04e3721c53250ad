namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>One entry of tokenizer.json "added_tokens".</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool StripLeft, bool StripRight);
