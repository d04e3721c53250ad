using System.Diagnostics;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;

namespace EdgeNode.Inference.Generation;

/// <summary>
/// Prefill in one run, then decode token by token with the KV cache kept in place, streaming text as
/// whole UTF-8 characters, and only once they can no longer turn out to be part of a stop text. Stops at
/// the tokenizer's end-of-text ids (llama2.c models also end a story with BOS), at MaxTokens, at a stop
/// text, at a full context or on cancellation; the streamed pieces always add up to the result's Text.
/// </summary>
public sealed class TextGenerator
{
    private readonly LocalModel _model;

    public TextGenerator(LocalModel model) => _model = model;

    public GenerationResult Generate(string prompt, GenerationOptions options, Action<string>? onText = null, CancellationToken cancellation = default) =>
        Generate(_model.Tokenizer.Encode(prompt), options, onText, cancellation);

    public GenerationResult Generate(int[] promptTokens, GenerationOptions options, Action<string>? onText = null, CancellationToken cancellation = default)
    {
        if (promptTokens.Length == 0)
            throw new ArgumentException("the prompt has no tokens (it must at least hold BOS)", nameof(promptTokens));
        if (options.MaxTokens < 0)
            throw new ArgumentException($"--max-tokens {options.MaxTokens} must be >= 0");
        if (options.ContextLength > _model.Config.MaxSeqLen)
            throw new ArgumentException($"a context of {options.ContextLength} positions is above the model's {_model.Config.MaxSeqLen}; use --context {_model.Config.MaxSeqLen} or less");
        // The caches grow as the conversation does, so a long context costs memory only once it is used.
        var capacity = options.ContextLength > 0 ? options.ContextLength : _model.Config.MaxSeqLen;
        if (promptTokens.Length > capacity)
            throw new ArgumentException($"the prompt is {promptTokens.Length} tokens, longer than the context of {capacity}");

        var sampler = new TokenSampler(options.Sampling);
        using var state = _model.CreateState(capacity);
        var text = _model.Tokenizer.CreateDecoder(promptTokens[^1]);
        var stopTokens = _model.Tokenizer.StopTokens;
        var generated = new List<int>(Math.Min(options.MaxTokens, Math.Min(capacity, 4096)));
        var history = new List<int>(promptTokens);
        // The caller is shown exactly what the result's Text holds, never a stop text or a part of one.
        var output = new System.Text.StringBuilder();
        var stopTexts = new StopTextFilter(options.StopTexts);
        var stop = StopReason.MaxTokens;
        var vocab = _model.Config.VocabSize;
        var logits = new float[vocab];
        // Hugging Face models often pad the embedding table past the tokenizer (Qwen: 151936 rows, 151669 tokens).
        // The padding rows name no text, so they are never sampled.
        var sampled = Math.Min(vocab, _model.Tokenizer.VocabSize);

        var clock = Stopwatch.StartNew();
        TimeSpan prefill = TimeSpan.Zero;
        ReadOnlySpan<int> current = promptTokens;
        var step = new int[1];
        while (generated.Count < options.MaxTokens)
        {
            if (cancellation.IsCancellationRequested)
            {
                stop = StopReason.Cancelled;
                break;
            }
            if (state.Length + current.Length > capacity)
            {
                stop = StopReason.ContextFull;
                break;
            }
            _model.Forward(current, state).CopyTo(logits);
            var next = sampler.Sample(logits.AsSpan(0, sampled), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            if (generated.Count == 0)
                prefill = clock.Elapsed;
            if (stopTokens.Contains(next) || options.StopTokens.Contains(next))
            {
                stop = StopReason.EndOfText;
                break;
            }
            generated.Add(next);
            history.Add(next);
            var shown = stopTexts.Append(text.Append(next));
            if (shown.Length > 0)
            {
                output.Append(shown);
                onText?.Invoke(shown);
            }
            if (stopTexts.Stopped)
            {
                stop = StopReason.StopText;
                break;
            }
            step[0] = next;
            current = step;
        }
        if (stop != StopReason.StopText)
        {
            var tail = stopTexts.Finish(text.Flush());
            if (stopTexts.Stopped)
                stop = StopReason.StopText;
            if (tail.Length > 0)
            {
                output.Append(tail);
                onText?.Invoke(tail);
            }
        }
        var total = clock.Elapsed;
        return new GenerationResult
        {
            PromptTokens = promptTokens,
            Tokens = [.. generated],
            Text = output.ToString(),
            StopReason = stop,
            Prefill = prefill,
            Decode = total - prefill,
            Seed = sampler.Seed,
        };
    }
}
