using EdgeNode.Gateway.Api;

namespace EdgeNode.Verifier;

/// <summary>The verifier's errors, in the gateway's (OpenAI's) error shape, each naming what was wrong and what to do.</summary>
internal static class VerifierErrors
{
    public static ApiError UnknownSession(string id) =>
        new(404, $"There is no verifier session '{id}' on this node (never opened, closed, or lost in a restart); open one again with POST /v1/verifier/sessions and the token history.",
            "invalid_request_error", "session", "session_not_found");

    public static ApiError ExpiredSession(string id, TimeSpan idle) =>
        new(410, $"The verifier session '{id}' expired after {idle.TotalSeconds:0} s without a request (the session idle timeout); open one again with the token history.",
            "invalid_request_error", "session", "session_expired");

    public static ApiError TokenizerMismatch(string model, string expected, string? given) =>
        new(409, given is null
                ? $"The request names no tokenizer; send \"tokenizer\": the fingerprint of the drafting side's tokenizer (the model '{model}' has {expected})."
                : $"The draft's tokenizer ({given}) differs from the one the target model '{model}' uses ({expected}): its token ids would mean other text. Draft with a model that uses the target's tokenizer.",
            "invalid_request_error", "tokenizer", "tokenizer_mismatch");

    public static ApiError TokenOutOfVocabulary(string param, int index, int token, int vocab) =>
        ApiError.InvalidRequest($"'{param}[{index}]' is {token}, outside the model's vocabulary (0..{vocab - 1}).", param, "token_out_of_vocabulary");

    public static ApiError DraftTooLong(int length, int limit) =>
        ApiError.InvalidRequest($"The draft has {length} tokens; this verifier checks at most {limit} per round (the draft limit). Send a shorter draft.", "draft", "draft_too_long");

    public static ApiError TooManySessions(int limit) =>
        new(429, $"This verifier already holds {limit} sessions (its limit); close finished sessions (DELETE /v1/verifier/sessions/ID) or retry when idle ones expire.",
            "rate_limit_error", null, "too_many_sessions") { RetryAfterSeconds = 5 };

    public static ApiError SessionBusy(string id) =>
        new(409, $"The verifier session '{id}' is verifying another round; send a session's rounds one after another.", "invalid_request_error", "session", "session_busy");

    public static ApiError ContextFull(int context, int length, int draft) =>
        ApiError.InvalidRequest($"The session holds {length} tokens of its {context}; a round of {draft} drafts does not fit. Send fewer drafts or start a new conversation.", "draft", "context_length_exceeded");
}
