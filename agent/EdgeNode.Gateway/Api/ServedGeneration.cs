using System.Text.Json;
using EdgeNode.Gateway.Modes;

namespace EdgeNode.Gateway.Api;

/// <summary>A finished generation, however it was served: what the answer and the receipt are built from.</summary>
internal sealed record ServedGeneration(string Text, int PromptTokens, int CompletionTokens, string FinishReason, int Layers, string Precision)
{
    /// <summary>Runs a checked request on the model it holds the turn of; the turn is handed on as soon as the run ends.</summary>
    public static async Task<ServedGeneration> LocalAsync(PreparedGeneration prepared, Func<string, ValueTask>? onPiece, CancellationToken cancellation)
    {
        using (prepared)
        {
            var result = await GenerationRun.RunAsync(prepared, onPiece, cancellation).ConfigureAwait(false);
            var model = prepared.Turn.Model;
            return new ServedGeneration(result.Text, prepared.PromptTokens.Length, result.Tokens.Length,
                SamplingParameters.FinishReason(result.StopReason), model.Config.Layers, model.Manifest.Precision);
        }
    }

    /// <summary>Runs the request through a plug-in mode (pool, speculative).</summary>
    public static async Task<ServedGeneration> PlugInAsync(IServingMode mode, ModelRunner runner, string endpoint, JsonElement body,
        Func<string, ValueTask>? onPiece, CancellationToken cancellation)
    {
        var run = await mode.GenerateAsync(new ModeRequest(runner, false), endpoint, body, onPiece, cancellation).ConfigureAwait(false);
        return new ServedGeneration(run.Text, run.PromptTokens, run.CompletionTokens, run.FinishReason, run.LayersHeld, run.Precision);
    }
}
