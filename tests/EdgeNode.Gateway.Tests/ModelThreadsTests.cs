using EdgeNode.Gateway.Dashboard;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// The device governor's thread step reaches a locally served model only between requests: not while a request holds
/// the model, before the next one starts, and at once when the model is idle. A conversation open across the step keeps
/// its caches and goes on to the golden tokens. In process, over the real model and real ONNX Runtime sessions.
/// </summary>
public sealed class ModelThreadsTests
{
    [Fact]
    public async Task AThreadStepReopensAModelBetweenRequestsAndItsConversationStaysGolden()
    {
        using var home = TestPaths.NewTempDirectory("model-threads");
        var golden = GoldenCase.Load("stories260K")[0];
        var folder = Path.Combine(home.Path, "stories260K");
        ModelConverter.Convert(golden.CheckpointPath, golden.TokenizerPath, folder,
            new ConversionOptions { Precision = WeightPrecision.Fp32, LayerRanges = [(0, 2), (2, 5)], Name = "stories260K" });
        var runtime = new InferenceRuntime(new InferenceOptions { Threads = 1 });
        var threads = new SessionThreads();
        using var catalog = new ModelCatalog(
            [new ServedModel("stories260K", folder, t => LocalModel.Load(runtime, folder, golden.TokenizerPath, threads: t))],
            8, new ServingStats(), NullLoggerFactory.Instance, threads);
        var runner = catalog.Get("stories260K");
        var steps = Math.Min(golden.Tokens.Length, 30);
        var tokens = new List<int>();
        ConversationState state;

        // A request holds the model: the step waits for the turn to end.
        using (var turn = await runner.WaitTurnAsync(false, CancellationToken.None))
        {
            Assert.Equal(1, turn.Model.Threads);
            state = turn.Model.CreateState(golden.Steps);
            tokens.Add(TokenSampler.ArgMax(turn.Model.Forward(golden.PromptTokens, state)));
            threads.Change(2, "test: warm");
            for (var i = 0; i < 5; i++)
                tokens.Add(TokenSampler.ArgMax(turn.Model.Forward([tokens[^1]], state)));
            Assert.Equal(1, turn.Model.Threads);
            Assert.Equal(1, runner.LoadedThreads);
        }

        using (state)
        {
            // The next request finds the model re-opened with 2 threads; the conversation goes on over its caches.
            using (var turn = await runner.WaitTurnAsync(false, CancellationToken.None))
            {
                Assert.Equal(2, turn.Model.Threads);
                while (tokens.Count < steps)
                    tokens.Add(TokenSampler.ArgMax(turn.Model.Forward([tokens[^1]], state)));
            }
            Assert.Equal(golden.Tokens[..steps], tokens);
        }

        // Idle: the runner takes the turn itself and re-opens the model at once.
        threads.Change(1, "test: cool");
        for (var i = 0; i < 200 && runner.LoadedThreads != 1; i++)
            await Task.Delay(50);
        Assert.Equal(1, runner.LoadedThreads);
    }
}
