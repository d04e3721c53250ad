using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeNode.Pool.Membership;

/// <summary>
/// One node's (or one observer's) seat in a pool's control plane over MQTT 5: publishes the node's retained state
/// with an offline last will, republishes it every heartbeat, keeps every other node's state and every model's
/// plan (fenced by epoch), expires nodes that fall silent, and reconnects with exponential backoff — resubscribing
/// and republishing — when the broker goes away. Bad payloads are logged and ignored.
/// </summary>
public sealed class PoolMembership : IAsyncDisposable
{
    private readonly MembershipOptions _options;
    private readonly ILogger _logger;
    private readonly IMqttClient _client;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, NodeView> _nodes = new(StringComparer.Ordinal);
    private readonly PlanFence _fence = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly string _clientId;
    private NodeState? _own;
    private PoolView _view;
    private Task? _heartbeats;
    private Task? _reconnecting;
    private bool _leaving;
    private DateTimeOffset _lastBeat;
    private readonly HashSet<string> _plansHeard = new(StringComparer.Ordinal);
    private DateTimeOffset _connectedAt;

    /// <param name="options">Pool, broker and timing.</param>
    /// <param name="ownNodeId">This node's id, or null for an observer that publishes nothing (`pool status`).</param>
    /// <param name="logger">Where ignored payloads and connection changes are reported; quiet when null.</param>
    public PoolMembership(MembershipOptions options, string? ownNodeId, ILogger? logger = null)
    {
        PoolProtocol.RequireValidName(options.Pool, "pool");
        if (ownNodeId is not null)
            PoolProtocol.RequireValidName(ownNodeId, "node id");
        _options = options;
        NodeId = ownNodeId;
        _logger = logger ?? NullLogger.Instance;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessage;
        _client.DisconnectedAsync += OnDisconnected;
        // A node's client id is stable, so a restarted node takes over its own dead session at once.
        _clientId = ownNodeId is null ? $"edgenode-{options.Pool}-observer-{Guid.NewGuid():N}" : $"edgenode-{options.Pool}-{ownNodeId}";
        _view = new PoolView(options.Pool, [], new Dictionary<string, PlanMessage>(), DateTimeOffset.UtcNow);
    }

    public string Pool => _options.Pool;

    public string? NodeId { get; }

    public BrokerAddress Broker => _options.Broker;

    public bool IsConnected => _client.IsConnected;

    /// <summary>When the current connection was made (after a broker restart: the reconnect).</summary>
    public DateTimeOffset ConnectedAt
    {
        get { lock (_gate) return _connectedAt; }
    }

    /// <summary>
    /// True when the broker delivered a plan for <paramref name="model"/> since the current connection was made. A
    /// broker that restarted without persistence has lost its retained plans: the leader republishes those it finds
    /// missing, so nodes that join later still learn them.
    /// </summary>
    public bool BrokerHasPlan(string model)
    {
        lock (_gate)
            return _plansHeard.Contains(model);
    }

    /// <summary>The latest snapshot.</summary>
    public PoolView View
    {
        get { lock (_gate) return _view; }
    }

    /// <summary>This node's state as last published (null for an observer or before <see cref="StartAsync"/>).</summary>
    public NodeState? OwnState
    {
        get { lock (_gate) return _own; }
    }

    /// <summary>Raised (on the MQTT client's or the heartbeat loop's thread) with each new snapshot.</summary>
    public event Action<PoolView>? ViewChanged;

    /// <summary>Connects, subscribes and (for a node) publishes <paramref name="own"/>. Throws when the first attempt fails.</summary>
    public async Task StartAsync(NodeState? own, CancellationToken cancellationToken = default)
    {
        if ((own is null) != (NodeId is null))
            throw new InvalidOperationException("a node publishes its own state and an observer none: give a state exactly when a node id was given");
        if (own is not null && own.NodeId != NodeId)
            throw new ArgumentException($"state names node '{own.NodeId}', this membership is node '{NodeId}'");
        lock (_gate)
            _own = own is null ? null : Stamp(own);
        try
        {
            await ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or MQTTnet.Adapter.MqttConnectingFailedException
                                      or System.Net.Sockets.SocketException or TimeoutException)
        {
            if (cancellationToken.IsCancellationRequested)
                throw;
            // MQTTnet names the broker's reason code in the message (the exception carries no code to match on).
            if (e is MQTTnet.Exceptions.MqttCommunicationException && (e.Message.Contains(nameof(MqttClientConnectResultCode.BadUserNameOrPassword), StringComparison.Ordinal)
                                                                      || e.Message.Contains(nameof(MqttClientConnectResultCode.NotAuthorized), StringComparison.Ordinal)))
                throw new IOException($"the pool broker {_options.Broker} refused this login for pool '{Pool}' ({e.Message.TrimEnd('.')}): give the pool's "
                                      + "secret (--pool-secret or EDGENODE_POOL_SECRET), or the broker's credentials in --broker mqtt://USER:PASSWORD@HOST", e);
            throw new IOException($"cannot reach the pool broker {_options.Broker} for pool '{Pool}': {e.Message.TrimEnd('.')}. Is the broker running "
                                  + "there? Give --broker mqtt://HOST:PORT, or run a node with --broker embedded", e);
        }
        _heartbeats = Task.Run(() => HeartbeatLoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Replaces this node's state (status, memory, refusals, sensors…) and publishes it now.</summary>
    public async Task UpdateStateAsync(Func<NodeState, NodeState> change, CancellationToken cancellationToken = default)
    {
        NodeState state;
        lock (_gate)
        {
            if (_own is null)
                throw new InvalidOperationException("an observer has no state to publish");
            _own = state = Stamp(change(_own) with { NodeId = _own.NodeId });
        }
        await PublishOwnAsync(state, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes a plan (retained). Only the pool's leader does this.</summary>
    public async Task PublishPlanAsync(PlanMessage plan, CancellationToken cancellationToken = default)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(PoolProtocol.PlanTopic(Pool, plan.Plan.Model))
            .WithPayload(PoolPayloads.Encode(plan))
            .WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until a snapshot satisfies <paramref name="condition"/>; throws TimeoutException naming <paramref name="what"/>.</summary>
    public async Task<PoolView> WaitForAsync(Func<PoolView, bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource<PoolView>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check(PoolView v)
        {
            if (condition(v))
                done.TrySetResult(v);
        }
        ViewChanged += Check;
        try
        {
            Check(View);
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(timeout);
            try
            {
                return await done.Task.WaitAsync(timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"pool '{Pool}': {what} did not happen within {timeout.TotalSeconds:0.#} s");
            }
        }
        finally
        {
            ViewChanged -= Check;
        }
    }

    /// <summary>
    /// Leaves on purpose: publishes `leaving`, clears the retained state (so the node vanishes from every view
    /// instead of lingering as offline) and disconnects without the last will.
    /// </summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        NodeState? own;
        lock (_gate)
        {
            _leaving = true;
            own = _own = _own is null ? null : Stamp(_own with { Status = NodeStatus.Leaving });
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        if (!_client.IsConnected)
            return;
        try
        {
            if (own is not null)
            {
                await PublishOwnAsync(own, cancellationToken).ConfigureAwait(false);
                var clear = new MqttApplicationMessageBuilder().WithTopic(PoolProtocol.NodeStateTopic(Pool, own.NodeId))
                    .WithPayload(Array.Empty<byte>()).WithRetainFlag().WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
                await _client.PublishAsync(clear, cancellationToken).ConfigureAwait(false);
            }
            await _client.DisconnectAsync(new MqttClientDisconnectOptions { Reason = MqttClientDisconnectOptionsReason.NormalDisconnection }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException e)
        {
            // The connection went away mid-goodbye: the broker publishes the last will (offline) instead.
            MembershipLog.PublishFailed(_logger, PoolProtocol.NodeStateTopic(Pool, NodeId ?? "observer"), e.Message);
        }
    }

    /// <summary>
    /// Drops the connection as a crash would (the broker sees no DISCONNECT and publishes the last will), then
    /// stops. Tests use it; a real crash needs nothing.
    /// </summary>
    internal async Task AbandonAsync()
    {
        lock (_gate)
            _leaving = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _client.DisconnectAsync(new MqttClientDisconnectOptions { Reason = MqttClientDisconnectOptionsReason.DisconnectWithWillMessage }).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
            _leaving = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _heartbeats, _reconnecting })
        {
            if (task is not null)
                await task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync(new MqttClientDisconnectOptions()).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or TimeoutException or OperationCanceledException)
            {
                // Already gone: nothing to say goodbye to.
            }
        }
        _client.Dispose();
        _stop.Dispose();
        _connectLock.Dispose();
    }

    private NodeState Stamp(NodeState state) => state with
    {
        ProtocolVersion = PoolProtocol.Version,
        HeartbeatAt = DateTimeOffset.UtcNow,
        HeartbeatIntervalMs = (int)_options.HeartbeatInterval.TotalMilliseconds,
        HeartbeatMissLimit = _options.HeartbeatMissLimit,
    };

    private MqttClientOptions ClientOptions(NodeState? own)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Broker.Host, _options.Broker.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(_clientId)
            .WithCleanStart()
            .WithKeepAlivePeriod(_options.KeepAlive)
            .WithTimeout(_options.ConnectTimeout);
        var user = _options.UserName ?? _options.Broker.UserName;
        if (user is not null)
            builder.WithCredentials(user, _options.Password ?? _options.Broker.Password ?? "");
        if (_options.Broker.Tls)
        {
            builder.WithTlsOptions(tls => tls.UseTls()
                .WithTargetHost(_options.Broker.Host)
                .WithAllowUntrustedCertificates(_options.AllowUntrustedCertificates)
                .WithIgnoreCertificateChainErrors(_options.AllowUntrustedCertificates)
                .WithCertificateValidationHandler(_options.AllowUntrustedCertificates ? _ => true : null!));
        }
        if (own is not null)
        {
            // The will is the node's state marked offline, retained, so a crash reads the same as a goodbye to
            // everyone, including nodes that subscribe later.
            builder.WithWillTopic(PoolProtocol.NodeStateTopic(Pool, own.NodeId))
                .WithWillPayload(PoolPayloads.Encode(own with { Status = NodeStatus.Offline }))
                .WithWillRetain()
                .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        }
        return builder.Build();
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client.IsConnected)
                return;
            var own = OwnState;
            lock (_gate)
            {
                _plansHeard.Clear();
                _connectedAt = DateTimeOffset.UtcNow;
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ConnectTimeout);
            var connected = await _client.ConnectAsync(ClientOptions(own), timeout.Token).ConfigureAwait(false);
            // A refused login can come back as a result rather than an exception: name it, or it surfaces later as "not connected".
            if (connected is { } result && result.ResultCode != MqttClientConnectResultCode.Success)
                throw new MQTTnet.Exceptions.MqttCommunicationException($"the broker refused the connection ({result.ResultCode}{(result.ReasonString is { Length: > 0 } why ? ": " + why : "")})");
            // Clean start: the broker kept no subscription of ours, so subscribe on every connection. Retained
            // states and plans arrive right after.
            var subscribe = new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(f => f.WithTopic(PoolProtocol.NodeStateFilter(Pool)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
                .WithTopicFilter(f => f.WithTopic(PoolProtocol.PlanFilter(Pool)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce))
                .Build();
            await _client.SubscribeAsync(subscribe, timeout.Token).ConfigureAwait(false);
            MembershipLog.Connected(_logger, _options.Broker.ToString(), _clientId);
            if (own is not null)
                await PublishOwnAsync(Stamp(own), timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private async Task PublishOwnAsync(NodeState state, CancellationToken cancellationToken)
    {
        if (!_client.IsConnected)
            return;   // the reconnect publishes the latest state
        var topic = PoolProtocol.NodeStateTopic(Pool, state.NodeId);
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(PoolPayloads.Encode(state))
            .WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        try
        {
            await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            _lastBeat = DateTimeOffset.UtcNow;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A lost connection is the reconnect loop's business; the state goes out again on reconnect.
            MembershipLog.PublishFailed(_logger, topic, e.Message);
        }
    }

    private Task OnDisconnected(MqttClientDisconnectedEventArgs e)
    {
        lock (_gate)
        {
            if (_leaving || _stop.IsCancellationRequested || !e.ClientWasConnected || _reconnecting is { IsCompleted: false })
                return Task.CompletedTask;
            MembershipLog.Disconnected(_logger, _options.Broker.ToString(), e.Exception?.Message ?? e.Reason.ToString());
            // Never reconnect from inside the client's own event: the loop runs beside it.
            _reconnecting = Task.Run(() => ReconnectLoopAsync(_stop.Token), CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    private async Task ReconnectLoopAsync(CancellationToken cancellationToken)
    {
        var delay = _options.ReconnectMin;
        for (var attempt = 1; !cancellationToken.IsCancellationRequested; attempt++)
        {
            // Jitter spreads the reconnects of a whole pool after its broker restarts.
            var wait = delay * (0.75 + Random.Shared.NextDouble() * 0.5);
            try
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                await ConnectAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever failed (refused, timed out, dropped between connect and subscribe), try again later:
                // this loop is the node's only way back into its pool.
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMax.Ticks));
                MembershipLog.ReconnectFailed(_logger, _options.Broker.ToString(), attempt, (long)delay.TotalMilliseconds, e.Message);
            }
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        // Ticks faster than the heartbeat so expiry is noticed promptly; publishes only when a beat is due.
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(_options.HeartbeatInterval.TotalMilliseconds / 4, 50, 500));
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = DateTimeOffset.UtcNow;
                NodeState? beat = null;
                lock (_gate)
                {
                    if (_own is not null && now - _lastBeat >= _options.HeartbeatInterval)
                        beat = _own = _own with { HeartbeatAt = now };
                }
                if (beat is not null)
                    await PublishOwnAsync(beat, cancellationToken).ConfigureAwait(false);
                ExpireSilentNodes(now);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private void ExpireSilentNodes(DateTimeOffset now)
    {
        PoolView? changed = null;
        lock (_gate)
        {
            foreach (var (id, node) in _nodes.ToArray())
            {
                var alive = IsAlive(node.State, node.LastHeard, now);
                if (alive != node.Alive)
                {
                    _nodes[id] = node with { Alive = alive };
                    if (!alive)
                        MembershipLog.NodeExpired(_logger, id, (long)(now - node.LastHeard).TotalMilliseconds);
                    changed = Snapshot(now);
                }
            }
        }
        if (changed is not null)
            ViewChanged?.Invoke(changed);
    }

    private static bool IsAlive(NodeState state, DateTimeOffset lastHeard, DateTimeOffset now) =>
        state.Status is not (NodeStatus.Offline or NodeStatus.Leaving) && now - lastHeard <= state.ExpiresAfter;

    private PoolView Snapshot(DateTimeOffset now)
    {
        var nodes = _nodes.Values.OrderBy(n => n.State.NodeId, StringComparer.Ordinal).ToArray();
        _view = new PoolView(Pool, nodes, new Dictionary<string, PlanMessage>(_fence.Current, StringComparer.Ordinal), now);
        return _view;
    }

    private Task OnMessage(MqttApplicationMessageReceivedEventArgs e)
    {
        var topic = e.ApplicationMessage.Topic;
        var payload = e.ApplicationMessage.Payload;
        var now = DateTimeOffset.UtcNow;
        PoolView? changed = null;
        // edgenode/v1/<pool>/node/<id>/state or edgenode/v1/<pool>/plan/<model>
        var parts = topic.Split('/');
        lock (_gate)
        {
            if (parts.Length == 6 && parts[3] == "node" && parts[5] == "state" && parts[2] == Pool)
                changed = OnState(topic, parts[4], payload, now);
            else if (parts.Length == 5 && parts[3] == "plan" && parts[2] == Pool)
                changed = OnPlan(topic, parts[4], payload, now);
            else
                MembershipLog.IgnoredPayload(_logger, topic, "not a topic of this protocol version");
        }
        if (changed is not null)
            ViewChanged?.Invoke(changed);
        return Task.CompletedTask;
    }

    private PoolView? OnState(string topic, string nodeId, ReadOnlySequence<byte> payload, DateTimeOffset now)
    {
        if (payload.IsEmpty)
        {
            // A cleared retained state: the node left on purpose.
            return _nodes.Remove(nodeId) ? Snapshot(now) : null;
        }
        var state = PoolPayloads.DecodeState(nodeId, payload, out var reason);
        if (state is null)
        {
            MembershipLog.IgnoredPayload(_logger, topic, reason!);
            return null;
        }
        _nodes.TryGetValue(nodeId, out var before);
        if (before is null || before.State.Status != state.Status)
            MembershipLog.NodeStatusChanged(_logger, nodeId, state.Status.ToString());
        _nodes[nodeId] = new NodeView(state, now, IsAlive(state, now, now));
        return Snapshot(now);
    }

    private PoolView? OnPlan(string topic, string model, ReadOnlySequence<byte> payload, DateTimeOffset now)
    {
        if (payload.IsEmpty)
        {
            _plansHeard.Remove(model);
            return _fence.Remove(model) ? Snapshot(now) : null;
        }
        var plan = PoolPayloads.DecodePlan(Pool, model, payload, out var reason);
        if (plan is null)
        {
            MembershipLog.IgnoredPayload(_logger, topic, reason!);
            return null;
        }
        _plansHeard.Add(model);
        if (!_fence.TryAccept(plan, out reason))
        {
            if (reason is not null)
                MembershipLog.IgnoredPayload(_logger, topic, reason);
            return null;
        }
        MembershipLog.PlanAccepted(_logger, model, plan.Plan.Epoch, plan.Leader);
        return Snapshot(now);
    }
}
