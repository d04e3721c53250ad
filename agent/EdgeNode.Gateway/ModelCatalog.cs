using EdgeNode.Gateway.Api;
using EdgeNode.Gateway.Dashboard;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Gateway;

/// <summary>The models this node serves, by id, each with its own run queue.</summary>
public sealed class ModelCatalog : IDisposable
{
    private readonly Dictionary<string, ModelRunner> _runners = new(StringComparer.Ordinal);

    public ModelCatalog(IEnumerable<ServedModel> models, int maxQueuedPerModel, ServingStats stats, ILoggerFactory logs)
    {
        Stats = stats;
        var log = logs.CreateLogger("EdgeNode.Gateway.Models");
        foreach (var model in models)
        {
            if (_runners.TryGetValue(model.Id, out var existing))
                throw new ArgumentException($"two models share the name '{model.Id}' ({existing.Served.Source} and {model.Source}); serve one of them, or rename a file or folder");
            _runners.Add(model.Id, new ModelRunner(model, maxQueuedPerModel, stats, log));
        }
        // The first model in a stable order is what listings show first.
        Ids = [.. _runners.Keys.Order(StringComparer.Ordinal)];
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
        foreach (var runner in _runners.Values)
            runner.Dispose();
    }
}
