using EdgeNode.Gateway.Api;
using EdgeNode.Gateway.Dashboard;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Gateway;

/// <summary>The models this node serves, by id, each with its own run queue.</summary>
public sealed class ModelCatalog : IDisposable
{
    private readonly Dictionary<string, ModelRunner> _runners = new(StringComparer.Ordinal);
    private readonly SessionThreads? _threads;

    /// <param name="threads">The device governor's thread count, which every model follows between requests; null: models keep --threads.</param>
    public ModelCatalog(IEnumerable<ServedModel> models, int maxQueuedPerModel, ServingStats stats, ILoggerFactory logs, SessionThreads? threads = null)
    {
        Stats = stats;
        var log = logs.CreateLogger("EdgeNode.Gateway.Models");
        foreach (var model in models)
        {
            if (_runners.TryGetValue(model.Id, out var existing))
                throw new ArgumentException($"two models share the name '{model.Id}' ({existing.Served.Source} and {model.Source}); serve one of them, or rename a file or folder");
            _runners.Add(model.Id, new ModelRunner(model, maxQueuedPerModel, stats, log, threads?.Threads));
        }
        // The first model in a stable order is what listings show first.
        Ids = [.. _runners.Keys.Order(StringComparer.Ordinal)];
        _threads = threads;
        if (threads is not null)
        {
            threads.Changed += OnThreadsChanged;
            // A step between reading the count above and subscribing is not lost.
            if (threads.Threads is { } now)
                OnThreadsChanged(now, "the device governor's count when the models were listed");
        }
    }

    private void OnThreadsChanged(int threads, string why)
    {
        foreach (var runner in _runners.Values)
            runner.ChangeThreads(threads, why);
    }

    public IReadOnlyList<string> Ids { get; }

    /// <summary>What every model has served since the node started.</summary>
    public ServingStats Stats { get; }

    /// <summary>Every runner, in <see cref="Ids"/> order.</summary>
    public IEnumerable<ModelRunner> Runners => Ids.Select(id => _runners[id]);

    /// <summary>The runner for <paramref name="id"/>; an unknown id is the client's mistake (404).</summary>
    public ModelRunner Get(string? id)
    {
        if (string.IsNullOrEmpty(id))
            throw ApiError.MissingParameter("model");
        return _runners.TryGetValue(id, out var runner) ? runner : throw ApiError.UnknownModel(id, Ids);
    }

    public void Dispose()
    {
        if (_threads is not null)
            _threads.Changed -= OnThreadsChanged;
        foreach (var runner in _runners.Values)
            runner.Dispose();
    }
}
