using EdgeNode.Inference.Generation;

namespace EdgeNode.Gateway.Api;

/// <summary>A checked request holding its model's turn: the prompt's tokens and the generator's options. Disposing hands the turn on.</summary>
internal sealed record PreparedGeneration(ModelRunner Runner, ModelTurn Turn, int[] PromptTokens, GenerationOptions Generation) : IDisposable
{
    public void Dispose() => Turn.Dispose();
}
