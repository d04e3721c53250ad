using EdgeNode.Gateway.Dashboard;
using EdgeNode.Gateway.Jobs;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// Jobs run on spare capacity only: not while the governor drains the node (the job is not even taken), and not
/// while an interactive request holds or waits for the model; then they run. In process, over the real model.
/// </summary>
public sealed class JobAdmissionTests
{
    [Fact]
    public async Task AJobWaitsForTheGovernorAndForInteractiveRequestsThenRuns()
    {
        using var home = TestPaths.NewTempDirectory("jobs-admission");
        var (_, checkpoint, tokenizer) = GoldenCase.RealModels().Single(m => m.Folder == "stories260K");
        var folder = Path.Combine(home.Path, "stories260K");
        ModelConverter.Convert(checkpoint, tokenizer, folder, new ConversionOptions { Precision = WeightPrecision.Fp32, Name = "stories260K" });
        var runtime = new InferenceRuntime(new InferenceOptions { Threads = 1 });
        using var catalog = new ModelCatalog([new ServedModel("stories260K", folder, threads => LocalModel.Load(runtime, folder, tokenizer, threads: threads))], 8, new ServingStats(), NullLoggerFactory.Instance);
        using var store = new JobStore(Path.Combine(home.Path, "jobs.db"));
        var admission = new JobAdmission();
        admission.Pause("drain: SoC at 80.0 °C, drain limit 78.0 °C");
        var runner = new JobRunner(store, catalog, new GatewayOptions(), NullLogger.Instance, admission);
        var (job, _) = store.Submit(null, JobsEndpoints.CompletionsUrl, """{"model":"stories260K","prompt":"Once upon a time","max_tokens":8,"temperature":0}""", null);
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => runner.RunAsync(stop.Token));
        try
        {
            // Drained: the job is left queued (not taken and parked), however long the drain lasts.
            for (var i = 0; i < 10; i++)
            {
                Thread.Sleep(100);
                Assert.Equal(JobStatus.Queued, store.Get(job.Id)!.Status);
            }

            // The governor resumes while a person's request holds the model: the job still waits for it.
            var turn = await catalog.Get("stories260K").WaitTurnAsync(false, CancellationToken.None);
            admission.Resume();
            for (var i = 0; i < 10; i++)
            {
                Thread.Sleep(100);
                Assert.Null(store.Get(job.Id)!.Result);
            }
            turn.Dispose();

            Job? done = null;
            for (var i = 0; i < 300 && done is null; i++)
            {
                var now = store.Get(job.Id)!;
                if (now.Status == JobStatus.Completed)
                    done = now;
                else
                    Thread.Sleep(50);
            }
            Assert.NotNull(done);
            Assert.Equal(200, done!.StatusCode);
            Assert.Contains("\"edgenode_mode\":\"async\"", done.Result, StringComparison.Ordinal);
        }
        finally
        {
            stop.Cancel();
            await loop.WaitAsync(TimeSpan.FromSeconds(15));
        }
    }
}
