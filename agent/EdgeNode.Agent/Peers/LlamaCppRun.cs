using System.Text.Json.Serialization;

namespace EdgeNode.Agent.Peers;

/// <summary>
/// One greedy decode by llama.cpp (through node-llama-cpp), as the peer script reports it.
/// </summary>
/// <param name="Tokens">Generated token ids after the prompt; the stop token (BOS or EOS) is not included.</param>
/// <param name="PromptTokens">How many prompt tokens were evaluated.</param>
/// <param name="PrefillMs">Time to evaluate the prompt and sample the first token.</param>
/// <param name="TtftMs">Prefill plus creating the context: what a caller waits before the first token.</param>
/// <param name="DecodeTokS">Over the generated tokens after the first (0 when fewer than two were generated).</param>
/// <param name="PrefillTokS">Prompt tokens over the prefill time.</param>
/// <param name="Threads">Threads llama.cpp was asked to use.</param>
/// <param name="LlamaCpp">node-llama-cpp and llama.cpp release, for the benchmark table.</param>
/// <remarks>Property names follow the peer's JSON keys so a benchmark table reads the same as the raw output.</remarks>
public sealed record LlamaCppRun(
    [property: JsonPropertyName("tokens")] int[] Tokens,
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("prefill_ms")] double PrefillMs,
    [property: JsonPropertyName("ttft_ms")] double TtftMs,
    [property: JsonPropertyName("decode_tok_s")] double DecodeTokS,
    [property: JsonPropertyName("prefill_tok_s")] double PrefillTokS,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("llama_cpp")] string LlamaCpp);
