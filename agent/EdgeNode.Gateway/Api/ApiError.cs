namespace EdgeNode.Gateway.Api;

/// <summary>
/// A request the API answers with an error, in OpenAI's shape: {"error":{"message","type","param","code"}} with the
/// status code OpenAI uses for the same mistake, so clients built for it report it the same way.
/// </summary>
public sealed class ApiError(int status, string message, string type, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    /// <summary>Seconds a client should wait before trying again (429), or null.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>
    /// Sent as "x-should-retry: false", which the official OpenAI clients honour: retrying cannot help until something
    /// changes on the node (its configuration) or the day (the free floor).
    /// </summary>
    public bool NotRetryable { get; init; }

    public ErrorBody ToBody() => new() { Error = new ErrorDetail { Message = Message, Type = Type, Param = Param, Code = Code } };

    public static ApiError InvalidRequest(string message, string? param = null, string? code = null) =>
        new(400, message, "invalid_request_error", param, code);

    public static ApiError InvalidJson(string detail) =>
        InvalidRequest($"We could not parse the JSON body of your request: {detail}. Send a JSON object (Content-Type: application/json).", code: "invalid_json");

    public static ApiError MissingParameter(string param) =>
        InvalidRequest($"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static ApiError UnknownModel(string id, IReadOnlyList<string> known) =>
        new(404, $"The model '{id}' does not exist on this node; GET /v1/models lists the {known.Count} it serves ({string.Join(", ", known)}).",
            "invalid_request_error", "model", "model_not_found");

    public static ApiError ContextLengthExceeded(string param, int context, int promptTokens, int? maxTokens) =>
        InvalidRequest(maxTokens is { } max
                ? $"This model's maximum context length is {context} tokens. However, you requested {promptTokens + max} tokens ({promptTokens} in the {param}, {max} in the completion). Please reduce the length of the {param} or the completion."
                : $"This model's maximum context length is {context} tokens. However, your {param} is {promptTokens} tokens. Please reduce the length of the {param}.",
            param, "context_length_exceeded");

    public static ApiError MissingKey() =>
        new(401, "You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer KEY'.", "invalid_request_error", null, "missing_api_key");

    public static ApiError WrongKey() =>
        new(401, "Incorrect API key provided. Use a key from this node's settings (api_keys or EDGENODE_API_KEYS).", "invalid_request_error", null, "invalid_api_key");

    public static ApiError BodyTooLarge(long limit) =>
        new(413, $"The request body is larger than this node's limit of {limit} bytes; send a shorter prompt or raise max_body_bytes in the settings.", "invalid_request_error", null, "request_too_large");

    public static ApiError Overloaded(string model, int queued) =>
        new(429, $"The model '{model}' already has {queued} requests waiting; try again shortly.", "rate_limit_error", null, "queue_full") { RetryAfterSeconds = 1 };

    /// <summary>OpenAI's answer to too many requests: type "requests", code "rate_limit_exceeded", with Retry-After.</summary>
    public static ApiError RateLimited(string who, int perMinute, int burst, int retryAfterSeconds) =>
        new(429, $"Rate limit reached for {who}: {perMinute} requests per minute, bursts of {burst}. Please try again in {retryAfterSeconds}s.",
            "requests", null, "rate_limit_exceeded") { RetryAfterSeconds = retryAfterSeconds };

    public static ApiError ModelUnavailable(string model, string reason) =>
        new(503, $"The model '{model}' could not be loaded: {reason}", "server_error", "model", "model_unavailable");

    /// <summary>The free floor is used up and the wallet is empty. 402, not 429: the OpenAI clients retry a 429 at once, and this does not pass in seconds.</summary>
    public static ApiError InsufficientCredits(decimal dailyFloor, decimal balance) =>
        new(402, $"This key has used its free floor of {dailyFloor:0.######} credits for today and its balance is {balance:0.######} credits. " +
            "The floor comes back at 00:00 UTC; to use more, link the key to a node you run ('edgenode credits link --key KEY') so it spends what that node earns.",
            "insufficient_quota", null, "insufficient_credits") { NotRetryable = true };

    /// <summary>No mode can serve the model: <paramref name="missing"/> says what each lacked.</summary>
    public static ApiError NoServingMode(string model, string missing) =>
        new(503, $"This node cannot serve '{model}' in any mode: {missing}.", "server_error", "model", "no_serving_mode") { NotRetryable = true };

    /// <summary>The remote half of a plug-in mode (a verifier, the pool's entry node) failed mid-request: <paramref name="reason"/> says which and what to do.</summary>
    public static ApiError ModeFailed(string model, string mode, string reason) =>
        new(503, $"Serving '{model}' in {mode} mode failed: {reason}", "server_error", "model", "serving_mode_failed") { RetryAfterSeconds = 5 };

    public static ApiError NotFound(string method, string path) =>
        new(404, $"Invalid URL ({method} {path}); this node serves GET /v1/models, POST /v1/completions, POST /v1/chat/completions, /v1/jobs, GET /v1/credits, POST /v1/credits/receipts, GET /v1/dashboard/events, GET /metrics and the pages / and /chat (see docs/api.md).", "invalid_request_error", null, "unknown_url");

    public static ApiError Internal(string message) =>
        new(500, $"The server had an error while processing your request: {message}", "server_error");
}
