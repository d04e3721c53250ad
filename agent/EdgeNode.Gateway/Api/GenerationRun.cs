using System.Threading.Channels;
using EdgeNode.Inference.Generation;

namespace EdgeNode.Gateway.Api;

/// <summary>
/// Runs one generation on a thread of its own (it is CPU-bound and synchronous, and must not hold a thread-pool
/// thread for seconds), handing each streamed piece to an async writer. The generation always finishes — stopped
/// early if the writer fails or the client leaves — before this returns, so the model's turn is never handed on
/// while its sessions are still running.
/// </summary>
internal static class GenerationRun
{
    public static async Task<GenerationResult> RunAsync(PreparedGeneration prepared, Func<string, ValueTask>? onPiece, CancellationToken cancellation)
    {
        var (_, turn, promptTokens, options) = prepared;
        var model = turn.Model;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var pieces = onPiece is null ? null : Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var run = Task.Factory.StartNew(() =>
        {
            try
            {
                return new TextGenerator(model).Generate(promptTokens, options, pieces is null ? null : piece => pieces.Writer.TryWrite(piece), stop.Token);
            }
            finally
            {
                pieces?.Writer.Complete();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        if (pieces is not null)
        {
            try
            {
                await foreach (var piece in pieces.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                    await onPiece!(piece).ConfigureAwait(false);
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await ((Task)run).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw;
            }
        }
        var result = await run.ConfigureAwait(false);
        // The generator ends a cancelled run quietly with what it had; here a cancelled run has no answer to give
        // (the client left, the node is stopping, or a job was cancelled), so it must not pass for a finished one.
        if (result.StopReason == StopReason.Cancelled)
            throw new OperationCanceledException("the generation was cancelled", cancellation);
        turn.Record(promptTokens.Length, result);
        return result;
    }
}
