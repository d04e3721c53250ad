using System.Text;
using System.Text.Json;
using EdgeNode.Gateway.Api;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Gateway.Jobs;

/// <summary>
/// Runs queued jobs one at a time, oldest first, when the node has spare capacity: a job starts only while the
/// device's governor lets the node serve (<see cref="JobAdmission"/>: not draining for heat, battery or power) and
/// its model has no interactive request running or waiting, so a job never makes a person wait longer than one job's run.
/// Each job runs exactly the code a non-streaming request runs, and its answer (or error) is stored as that
/// endpoint's status and body. Finished jobs are purged after the retention period.
/// </summary>
public sealed class JobRunner
{
    private static readonly TimeSpan s_idlePoll = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_sparePoll = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_purgeEvery = TimeSpan.FromHours(1);

    private readonly JobStore _store;
    private readonly ModelCatalog _catalog;
    private readonly GatewayOptions _options;
    private readonly ILogger _log;
    private readonly JobAdmission _admission;
    private readonly Credits.NodeCredits? _credits;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Lock _gate = new();
    private string? _runningId;
    private CancellationTokenSource? _runningCancel;
    private long _runningCharacters;
    private int _runningMaxTokens;

    public JobRunner(JobStore store, ModelCatalog catalog, GatewayOptions options, ILogger log, JobAdmission? admission = null, Credits.NodeCredits? credits = null)
    {
        _admission = admission ?? new JobAdmission();
        _credits = credits;
        _store = store;
        _catalog = catalog;
        _options = options;
        _log = log;
    }

    /// <summary>A job was submitted: look now rather than at the next poll.</summary>
    public void Wake() => _wake.Release();

    /// <summary>Asks the running job to stop if it is <paramref name="id"/>; true when it was.</summary>
    public bool CancelRunning(string id)
    {
        lock (_gate)
        {
            if (_runningId != id)
                return false;
            _runningCancel?.Cancel();
            return true;
        }
    }

    /// <summary>Characters generated so far and max_tokens, for the job in progress.</summary>
    public (long Characters, int MaxTokens)? ProgressOf(string id)
    {
        lock (_gate)
            return _runningId == id ? (Interlocked.Read(ref _runningCharacters), _runningMaxTokens) : null;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        var resumed = _store.ResumeInterrupted();
        if (resumed > 0)
            _log.LogInformation("resuming {Count} jobs cut off when the node last stopped", resumed);
        var nextPurge = DateTime.UtcNow;
        while (!stopping.IsCancellationRequested)
        {
            if (DateTime.UtcNow >= nextPurge)
            {
                var purged = _store.Purge(_options.JobRetention);
                if (purged > 0)
                    _log.LogInformation("purged {Count} jobs finished more than {Hours} hours ago", purged, _options.JobRetention.TotalHours);
                nextPurge = DateTime.UtcNow + s_purgeEvery;
            }
            // A drained node starts no job: it is not taken (it stays queued), and the loop waits for the governor.
            if (_admission.PausedBecause is { } paused)
            {
                _log.LogInformation("jobs paused: {Reason}", paused);
                try
                {
                    await _admission.WaitOpenAsync(stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                _log.LogInformation("jobs resumed");
                continue;
            }
            var job = _store.TakeNext();
            if (job is null)
            {
                try
                {
                    await _wake.WaitAsync(s_idlePoll, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            await RunOneAsync(job, stopping).ConfigureAwait(false);
        }
    }

    private async Task RunOneAsync(Job job, CancellationToken stopping)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        lock (_gate)
        {
            _runningId = job.Id;
            _runningCancel = cancel;
            _runningCharacters = 0;
            _runningMaxTokens = 0;
        }
        try
        {
            var (status, body) = await ExecuteAsync(job, cancel.Token).ConfigureAwait(false);
            var recorded = _store.Finish(job.Id, status == 200 ? JobStatus.Completed : JobStatus.Failed, status, body);
            _log.LogDebug("job {Id} {Outcome} ({Status}) after {Attempts} attempts", job.Id, recorded ? (status == 200 ? "completed" : "failed") : "was cancelled", status, job.Attempts);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The node is stopping: the job runs again at the next start.
            _store.Requeue(job.Id);
        }
        catch (OperationCanceledException)
        {
            _store.Finish(job.Id, JobStatus.Cancelled, null, null);
            _log.LogDebug("job {Id} cancelled while running", job.Id);
        }
        catch (Exception e)
        {
            // A fault in the node, not in the request: the job fails with the answer a direct request would have had.
            _log.LogError("job {Id} failed: {Error}", job.Id, e.ToString());
            _store.Finish(job.Id, JobStatus.Failed, 500, JsonSerializer.Serialize(ApiError.Internal(e.Message).ToBody(), GatewayJsonContext.Default.ErrorBody));
        }
        finally
        {
            lock (_gate)
            {
                _runningId = null;
                _runningCancel = null;
            }
        }
    }

    /// <summary>The endpoint's answer to the job's body: status code and JSON, errors included.</summary>
    private async Task<(int Status, string Body)> ExecuteAsync(Job job, CancellationToken cancellation)
    {
        try
        {
            var body = Encoding.UTF8.GetBytes(job.Body);
            var serving = Api.RequestServing.ForJob(job.Id, job.KeyId ?? Ledger.AccountIds.Anonymous, _credits);
            ValueTask Progress(string piece)
            {
                Interlocked.Add(ref _runningCharacters, piece.Length);
                return ValueTask.CompletedTask;
            }
            if (job.Url == JobsEndpoints.CompletionsUrl)
            {
                var request = RequestBody.Parse(body, GatewayJsonContext.Default.CompletionRequest);
                request.Stream = false;
                await WaitForSpareCapacityAsync(request.Model, request.MaxTokens ?? CompletionsEndpoint.DefaultMaxTokens, cancellation).ConfigureAwait(false);
                var answer = await CompletionsEndpoint.AnswerAsync(request, _catalog, serving, Progress, cancellation).ConfigureAwait(false);
                return (200, JsonSerializer.Serialize(answer, GatewayJsonContext.Default.Completion));
            }
            else
            {
                var request = RequestBody.Parse(body, GatewayJsonContext.Default.ChatCompletionRequest);
                request.Stream = false;
                await WaitForSpareCapacityAsync(request.Model, request.MaxCompletionTokens ?? request.MaxTokens ?? 0, cancellation).ConfigureAwait(false);
                var answer = await ChatCompletionsEndpoint.AnswerAsync(request, _catalog, _options, serving, Progress, cancellation).ConfigureAwait(false);
                return (200, JsonSerializer.Serialize(answer, GatewayJsonContext.Default.ChatCompletion));
            }
        }
        catch (ApiError e)
        {
            return (e.Status, JsonSerializer.Serialize(e.ToBody(), GatewayJsonContext.Default.ErrorBody));
        }
    }

    private async Task WaitForSpareCapacityAsync(string? model, int maxTokens, CancellationToken cancellation)
    {
        var runner = _catalog.Get(model);
        lock (_gate)
            _runningMaxTokens = maxTokens;
        while (runner.Pending > 0)
            await Task.Delay(s_sparePoll, cancellation).ConfigureAwait(false);
    }
}
