using EdgeNode.Gateway.Api;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Gateway.Modes;

/// <summary>
/// Chooses how each request is served, in this order: a job is async (it runs later, locally, so the model must fit);
/// a model that is loaded or fits this node's memory runs locally (no network, lowest latency); else the pool when it
/// serves the model; else speculative decoding when a verifier is reachable. When none can, the error says what each
/// mode lacked, so the operator knows what to add. The choice is logged once per model and mode at information level
/// (and per request at debug), since modes change with the pool, not per request.
/// </summary>
public sealed class ModePicker
{
    private readonly NodeMemory _memory;
    private readonly IServingMode? _pool;
    private readonly IServingMode? _speculative;
    private readonly ILogger _log;
    private readonly Dictionary<string, string> _lastMode = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public ModePicker(NodeMemory memory, IEnumerable<IServingMode> plugIns, ILogger log)
    {
        _memory = memory;
        _log = log;
        foreach (var mode in plugIns)
        {
            switch (mode.Name)
            {
                case ServingModeNames.Pool: _pool = mode; break;
                case ServingModeNames.Speculative: _speculative = mode; break;
                default: throw new ArgumentException($"serving mode '{mode.Name}' is not pool or speculative; local and async are built in");
            }
        }
    }

    /// <summary>The chosen mode: its name, and the plug-in that runs it (null for local and async, which the gateway runs itself).</summary>
    public readonly record struct Choice(string Name, IServingMode? PlugIn, string Why);

    public Choice Pick(ModeRequest request)
    {
        var local = Local(request.Model);
        Choice? choice = null;
        if (request.Async)
        {
            if (local.Available)
                choice = new Choice(ServingModeNames.Async, null, "a job: runs when the node has spare capacity; " + local.Reason);
        }
        else if (local.Available)
        {
            choice = new Choice(ServingModeNames.Local, null, local.Reason);
        }
        string pool = "no pool serves it (no broker configured)", speculative = "no verifier is configured";
        if (choice is null && !request.Async)
        {
            if (_pool is not null)
            {
                var check = _pool.Check(request);
                if (check.Available)
                    choice = new Choice(ServingModeNames.Pool, _pool, check.Reason);
                pool = check.Reason;
            }
            if (choice is null && _speculative is not null)
            {
                var check = _speculative.Check(request);
                if (check.Available)
                    choice = new Choice(ServingModeNames.Speculative, _speculative, check.Reason);
                speculative = check.Reason;
            }
        }
        if (choice is not { } chosen)
            throw ApiError.NoServingMode(request.Model.Id, request.Async
                ? $"{local.Reason}, and a job runs on this node only"
                : $"{local.Reason}, and {pool}, and {speculative}");
        Log(request.Model.Id, chosen);
        return chosen;
    }

    private ModeAvailability Local(ModelRunner model)
    {
        if (model.LoadedPrecision is not null)
            return ModeAvailability.Yes($"model {model.Id} is loaded here");
        if (model.Served.WeightBytes is not { } size)
            return ModeAvailability.Yes($"model {model.Id} (size unknown) is taken to fit");
        if (_memory.AvailableBytes is not { } available)
            return ModeAvailability.Yes($"model {model.Id} ({NodeMemory.Describe(size)}): this node's memory is unknown, taken to fit");
        var what = _memory.BudgetBytes is null ? "available memory" : "memory budget";
        return size <= available
            ? ModeAvailability.Yes($"model {model.Id} ({NodeMemory.Describe(size)}) fits this node's {NodeMemory.Describe(available)} {what}")
            : ModeAvailability.No($"model {model.Id} ({NodeMemory.Describe(size)}) does not fit this node's {NodeMemory.Describe(available)} {what}");
    }

    private void Log(string model, Choice choice)
    {
        bool changed;
        lock (_gate)
        {
            changed = !_lastMode.TryGetValue(model, out var last) || last != choice.Name;
            _lastMode[model] = choice.Name;
        }
        if (changed)
            _log.LogInformation("model {Model} served {Mode}: {Why}", model, choice.Name, choice.Why);
        else if (_log.IsEnabled(LogLevel.Debug))
            _log.LogDebug("model {Model} served {Mode}: {Why}", model, choice.Name, choice.Why);
    }
}
