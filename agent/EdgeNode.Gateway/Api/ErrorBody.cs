namespace EdgeNode.Gateway.Api;

/// <summary>OpenAI's error envelope. Param and code are always written, null when they do not apply.</summary>
public sealed class ErrorBody
{
    public required ErrorDetail Error { get; init; }
}

public sealed class ErrorDetail
{
    public required string Message { get; init; }
    public required string Type { get; init; }
    public string? Param { get; init; }
    public string? Code { get; init; }
}
