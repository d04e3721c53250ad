using System.Text;
using System.Threading.Channels;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeNode.Pool;

/// <summary>A new plan of one model reached this node: what it now holds (null: nothing of this model).</summary>
/// <param name="Plan">The plan in force from now on.</param>
/// <param name="Assignment">This node's part of it, or null when the plan leaves it out (or has no chain).</param>
/// <param name="PreviousEpoch">The epoch this node obeyed for the model before (0: none).</param>
public sealed record AssignmentChange(PoolPlan Plan, SliceAssignment? Assignment, long PreviousEpoch, string? Unplanned);

/// <summary>
/// A node's life in a pool: its membership (state, heartbeats, last will), leadership (the lowest serving node id
/// plans for everyone) and the plans it must obey. The daemon hands <see cref="AssignmentChanged"/> to the data
/// plane (`ApplyPlan(plan, NodeId)`), and calls <see cref="RefuseAsync"/> when it cannot load what it was given.
/// Events are raised one at a time from one worker, never from the MQTT client's thread, so a slow handler
/// delays plans but not heartbeats.
/// </summary>
public sealed partial class PoolNode : IAsyncDisposable
{
    /// <summary>A fresh leader waits this long after connecting before planning, so the retained plans (and the
    /// epoch they carry) have reached it and its first plan is not fenced as stale.</summary>
    public static readonly TimeSpan LeaderSettle = TimeSpan.FromMilliseconds(750);

    /// <summary>Joins arriving together (a pool booting) are planned once, not once per node.</summary>
    public static readonly TimeSpan PlanDebounce = TimeSpan.FromMilliseconds(200);

    private readonly ILogger _logger;
    private readonly Channel<PoolView> _views = Channel.CreateUnbounded<PoolView>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, long> _obeyed = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task? _worker;
    private Task? _ticker;
    private DateTimeOffset _startedAt;
    private string? _lastPlanningKey;
    private long _lastIssuedEpoch;

    public PoolNode(MembershipOptions options, NodeState state, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        InitialState = state;
        Membership = new PoolMembership(options, state.NodeId, _logger);
        Membership.ViewChanged += v => _views.Writer.TryWrite(v);
    }

    public PoolMembership Membership { get; }

    public string NodeId => Membership.NodeId!;

    public NodeState InitialState { get; }

    /// <summary>True while this node is the pool's planner.</summary>
    public bool IsLeader => Membership.View.Leader == NodeId;

    /// <summary>A plan of a model changed (a new epoch), with this node's part. The data plane applies it.</summary>
    public event Action<AssignmentChange>? AssignmentChanged;

    /// <summary>Every snapshot, after its plans were handled.</summary>
    public event Action<PoolView>? ViewChanged;

    /// <summary>This node published a refusal (its own check failed, or the daemon called <see cref="RefuseAsync"/>).</summary>
    public event Action<SliceRefusal>? Refused;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _startedAt = DateTimeOffset.UtcNow;
        _worker = Task.Run(() => WorkAsync(_stop.Token), CancellationToken.None);
        await Membership.StartAsync(InitialState, cancellationToken).ConfigureAwait(false);
        _ticker = Task.Run(() => TickAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Stops taking layers: the leader plans without this node; what it holds is released by the next plan.</summary>
    public Task DrainAsync(CancellationToken cancellationToken = default) =>
        Membership.UpdateStateAsync(s => s with { Status = NodeStatus.Draining }, cancellationToken);

    /// <summary>Back to serving (after a drain); clears refusals, since whatever caused them may have passed.</summary>
    public Task ResumeAsync(CancellationToken cancellationToken = default) =>
        Membership.UpdateStateAsync(s => s with { Status = NodeStatus.Serving, Refusals = [] }, cancellationToken);

    /// <summary>Marks this node ready for layers (after joining: models measured, data port open).</summary>
    public Task ServeAsync(CancellationToken cancellationToken = default) =>
        Membership.UpdateStateAsync(s => s with { Status = NodeStatus.Serving }, cancellationToken);

    /// <summary>Refuses what plan <paramref name="epoch"/> gave this node for <paramref name="model"/>; the leader re-plans without it.</summary>
    public async Task RefuseAsync(string model, long epoch, string reason, CancellationToken cancellationToken = default)
    {
        var refusal = new SliceRefusal { Model = model, Epoch = epoch, Reason = reason };
        await Membership.UpdateStateAsync(s => s with { Refusals = [.. s.Refusals.Where(r => r.Model != model), refusal] }, cancellationToken).ConfigureAwait(false);
        PoolNodeLog.Refused(_logger, model, epoch, reason);
        Refused?.Invoke(refusal);
    }

    /// <summary>Withdraws a refusal (e.g. memory was freed), so the leader may plan this node for the model again.</summary>
    public Task ClearRefusalAsync(string model, CancellationToken cancellationToken = default) =>
        Membership.UpdateStateAsync(s => s with { Refusals = [.. s.Refusals.Where(r => r.Model != model)] }, cancellationToken);

    /// <summary>Publishes changed figures (sensors, measured speed, free memory) with the next state.</summary>
    public Task UpdateAsync(Func<NodeState, NodeState> change, CancellationToken cancellationToken = default) =>
        Membership.UpdateStateAsync(change, cancellationToken);

    /// <summary>Leaves gracefully (SIGTERM, the governor's drain): `leaving`, then the retained state is cleared.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        await Membership.LeaveAsync(cancellationToken).ConfigureAwait(false);
        await StopWorkerAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopWorkerAsync().ConfigureAwait(false);
        await Membership.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task StopWorkerAsync()
    {
        _views.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _worker, _ticker })
        {
            if (task is not null)
                await task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Looks at the pool again every <see cref="LeaderSettle"/> even when nothing changed, so no check waits on a
    /// change that never comes (a broker that came back empty, a plan lost in flight). Cheap: an unchanged pool
    /// stops at the planning key.
    /// </summary>
    private async Task TickAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(LeaderSettle);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                _views.Writer.TryWrite(Membership.View);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _views.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await HandleAsync(Latest(), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // A failed publish (or a failing event handler) is not fatal: the planning key was not recorded,
                    // so the next snapshot retries.
                    PoolNodeLog.WorkFailed(_logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task HandleAsync(PoolView view, CancellationToken cancellationToken)
    {
        await ObeyAsync(view, cancellationToken).ConfigureAwait(false);
        ViewChanged?.Invoke(view);
        if (view.Leader != NodeId)
            return;
        // Let a burst of joins settle, and let a new leader hear the retained plans first.
        var settle = _startedAt + LeaderSettle - DateTimeOffset.UtcNow;
        await Task.Delay(settle > PlanDebounce ? settle : PlanDebounce, cancellationToken).ConfigureAwait(false);
        if (_views.Reader.TryPeek(out _))
        {
            view = Latest();
            await ObeyAsync(view, cancellationToken).ConfigureAwait(false);
            ViewChanged?.Invoke(view);
        }
        if (view.Leader == NodeId)
            await LeadAsync(view, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Only the newest snapshot matters: older ones still queued are skipped.</summary>
    private PoolView Latest()
    {
        PoolView view = Membership.View;
        while (_views.Reader.TryRead(out var v))
            view = v;
        return view;
    }

    /// <summary>Raises <see cref="AssignmentChanged"/> for every plan newer than the one this node obeys, after checking it can hold its part.</summary>
    private async Task ObeyAsync(PoolView view, CancellationToken cancellationToken)
    {
        foreach (var (model, message) in view.Plans.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var plan = message.Plan;
            _obeyed.TryGetValue(model, out var previous);
            if (plan.Epoch <= previous)
                continue;
            _obeyed[model] = plan.Epoch;
            var mine = plan.For(NodeId);
            if (mine is not null && CannotHold(model, mine) is { } reason)
            {
                await RefuseAsync(model, plan.Epoch, reason, cancellationToken).ConfigureAwait(false);
                mine = null;
            }
            PoolNodeLog.Obeying(_logger, model, plan.Epoch, mine is null ? "nothing" : $"layers [{mine.FirstLayer},{mine.EndLayer})");
            AssignmentChanged?.Invoke(new AssignmentChange(plan, mine, previous, message.Unplanned));
        }
    }

    /// <summary>This node's own check of what a plan gave it: the model it knows, with the weights it means, within its memory.</summary>
    private string? CannotHold(string model, SliceAssignment a)
    {
        var own = Membership.OwnState ?? InitialState;
        var m = own.Model(model);
        if (m is null)
            return $"node '{NodeId}' does not serve model '{model}'";
        var bytes = PoolPlanner.SliceBytes(PlannedModel.From(m), a);
        if (bytes > own.WeightsMaxBytes)
            return $"layers [{a.FirstLayer},{a.EndLayer}){(a.Embed ? " + embedding" : "")}{(a.Head ? " + head" : "")} need {bytes} bytes; node '{NodeId}' offers {own.WeightsMaxBytes}";
        if (a.EndLayer > m.Layers)
            return $"layers [{a.FirstLayer},{a.EndLayer}) exceed the model's {m.Layers} layers";
        return null;
    }

    private async Task LeadAsync(PoolView view, CancellationToken cancellationToken)
    {
        await RepublishLostPlansAsync(view, cancellationToken).ConfigureAwait(false);
        var key = PlanningKey(view);
        if (key == _lastPlanningKey)
            return;
        var decisions = PoolPlanner.Decide(view);
        var epoch = Math.Max(view.HighestEpoch, _lastIssuedEpoch);
        var published = false;
        foreach (var d in decisions)
        {
            view.Plans.TryGetValue(d.Model, out var held);
            if (d.SameAs(held))
                continue;
            // A model no chain can hold is published too, with the shortfall, even when no chain served it before:
            // that is how an operator (pool status, the dashboard, a client's error) learns what the pool lacks.
            epoch++;
            var plan = d.Plan is null ? new PoolPlan(view.Pool, d.Model, epoch, []) : d.Plan with { Epoch = epoch };
            var message = new PlanMessage { Leader = NodeId, IssuedAt = DateTimeOffset.UtcNow, Plan = plan, Unplanned = d.Unplanned, Excluded = d.Excluded };
            PoolNodeLog.Publishing(_logger, d.Model, epoch, d.Plan is null ? d.Unplanned ?? "no chain" : Describe(d.Plan));
            await Membership.PublishPlanAsync(message, cancellationToken).ConfigureAwait(false);
            _lastIssuedEpoch = epoch;
            published = true;
        }
        // Settled only once the view already holds what the planner wants: a plan just published counts when its
        // echo arrives (which changes the key anyway); one lost on the way (the broker died) is planned again.
        if (!published)
            _lastPlanningKey = key;
    }

    /// <summary>
    /// A broker that restarted without persistence lost the retained plans: everyone still obeys them, but a node
    /// joining later would not learn them. Once the retained messages had time to arrive after the (re)connection,
    /// the leader puts back, unchanged, each plan in force that the broker did not deliver.
    /// </summary>
    private async Task RepublishLostPlansAsync(PoolView view, CancellationToken cancellationToken)
    {
        if (DateTimeOffset.UtcNow - Membership.ConnectedAt < LeaderSettle || !Membership.IsConnected)
            return;   // too early to tell: the next tick looks again
        foreach (var (model, held) in view.Plans.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (Membership.BrokerHasPlan(model))
                continue;
            PoolNodeLog.Republishing(_logger, model, held.Plan.Epoch);
            await Membership.PublishPlanAsync(held, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// What planning depends on, minus what changes every heartbeat (the clock, measured speed, sensors): a plan is
    /// recomputed on join, leave, drain, refusal or a plan change, not on every heartbeat, so speed noise never
    /// churns epochs.
    /// </summary>
    private static string PlanningKey(PoolView view)
    {
        var b = new StringBuilder();
        foreach (var n in view.Live.OrderBy(n => n.State.NodeId, StringComparer.Ordinal))
        {
            var s = n.State;
            b.Append(s.NodeId).Append('|').Append(s.WeightsMaxBytes).Append('|').Append(s.DataEndpoint);
            foreach (var m in s.Models)
                b.Append('|').Append(m.Name).Append(':').Append(m.Sha256).Append(':').Append(m.Layers).Append(':').Append(m.BytesPerLayer);
            foreach (var r in s.Refusals)
                b.Append("|!").Append(r.Model);
            b.Append(';');
        }
        foreach (var (model, plan) in view.Plans.OrderBy(p => p.Key, StringComparer.Ordinal))
            b.Append(model).Append('@').Append(plan.Plan.Epoch).Append(';');
        return b.ToString();
    }

    private static string Describe(PoolPlan plan) =>
        string.Join(" → ", plan.Assignments.Select(a => $"{a.NodeId}[{a.FirstLayer},{a.EndLayer})"));

    private static partial class PoolNodeLog
    {
        [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Publishing plan for {Model} at epoch {Epoch}: {Chain}")]
        public static partial void Publishing(ILogger logger, string model, long epoch, string chain);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Obeying plan for {Model} at epoch {Epoch}: {Part}")]
        public static partial void Obeying(ILogger logger, string model, long epoch, string part);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Refused {Model} at epoch {Epoch}: {Reason}")]
        public static partial void Refused(ILogger logger, string model, long epoch, string reason);

        [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "Republishing plan for {Model} at epoch {Epoch}: the broker no longer had it")]
        public static partial void Republishing(ILogger logger, string model, long epoch);

        [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Pool work failed, retrying on the next change: {Reason}")]
        public static partial void WorkFailed(ILogger logger, string reason);
    }
}
