using System.Text.Json;

namespace EdgeNode.Gateway.Modes;

/// <summary>
/// A way of serving a request that is not this node alone: the LAN pool (layers spread over nodes) or speculative
/// decoding (a local draft, a remote verifier). The host registers the ones it has; the picker asks each whether it
/// can serve a request and the endpoint runs the chosen one. Local solo and async are the gateway's own.
/// The request is handed over as the endpoint's JSON body (already checked to be a request of that endpoint), so a
/// mode that has the model's tokenizer and chat format renders and encodes it as a local run would.
/// </summary>
public interface IServingMode
{
    /// <summary><see cref="ServingModeNames.Pool"/> or <see cref="ServingModeNames.Speculative"/>.</summary>
    string Name { get; }

    /// <summary>Can this mode serve the request now (broker reachable, a plan covering the model, verifier up)? When not, what is missing.</summary>
    ModeAvailability Check(ModeRequest request);

    /// <summary>Runs the request; each decoded piece goes to <paramref name="onPiece"/> as it comes (streaming, job progress).</summary>
    /// <param name="endpoint">"/v1/completions" or "/v1/chat/completions".</param>
    Task<ModeGeneration> GenerateAsync(ModeRequest request, string endpoint, JsonElement body, Func<string, ValueTask>? onPiece, CancellationToken cancellation);
}

/// <summary>A finished generation from a plug-in mode, and the layers and precision this node ran for it (for the receipt).</summary>
/// <param name="FinishReason">"stop" or "length", as OpenAI's finish_reason.</param>
public sealed record ModeGeneration(string Text, int PromptTokens, int CompletionTokens, string FinishReason, int LayersHeld, string Precision);
