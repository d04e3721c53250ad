using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using EdgeNode.Agent.Cli;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Import;
using EdgeNode.Pool;
using EdgeNode.Pool.Chain;
using EdgeNode.Pool.Discovery;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;
using EdgeNode.Pool.Security;
using EdgeNode.Pool.Slices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Agent.Daemon;

/// <summary>
/// The pool node inside `edgenode serve`: publishes what this node offers (its model's shape and weights hash, its
/// measured speed, its memory budgets, its data endpoint), runs the data plane (<see cref="ChainNode"/>) and the slice
/// server, and on every plan gets the slice it was given — built from the local checkpoint, or fetched from peers when
/// the node has no model files — and switches the chain over. A slice it cannot get or load is refused with the
/// reason, so the leader plans without it. The node that provides for the pool (<see cref="SlicePeers.Provider"/>) also
/// builds the slices of nodes without the checkpoint. Stopping leaves the pool first (the others re-plan at once),
/// then closes the data plane.
/// </summary>
internal sealed partial class PoolDaemon(PoolDaemonOptions options, ILoggerFactory loggers) : IHostedService, IAsyncDisposable, IPoolGovernable
{
    private static readonly TimeSpan s_waitLogInterval = TimeSpan.FromSeconds(10);

    private readonly ILogger _log = loggers.CreateLogger("EdgeNode.Pool.Daemon");
    private readonly Channel<AssignmentChange> _changes = Channel.CreateUnbounded<AssignmentChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _statusGate = new();
    private PoolPresence? _presence;
    private PoolGovernance? _governance;
    private volatile ChainNode? _chain;
    private SliceServer? _slices;
    private Task _worker = Task.CompletedTask;
    private PoolHandshake? _handshake;
    private Task _adopting = Task.CompletedTask;
    private volatile ServableModel? _model;
    private volatile string _sliceFolder = "";
    private string? _tokenizerPath;
    private string? _checkpoint;
    private bool _ready;
    private bool _drained;
    // The governor's thread count (null: the runtime's); the chain is created with it under this lock, so no step is lost.
    private readonly Lock _threadsGate = new();
    private int? _threads;

    public long FramesProcessed => _chain?.FramesProcessed ?? 0;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _handshake = options.PoolSecret is { } secret ? new PoolHandshake(options.Pool, secret) : null;
        _slices = SliceServer.Start(new IPEndPoint(IPAddress.Any, SlicePeers.SlicePort(options.DataPort)), new Dictionary<string, string>(),
            new SliceServerOptions { Log = line => Log.SliceServer(_log, line), Authenticate = _handshake is null ? null : _handshake.AcceptAsync });
        if (options.CheckpointPath is not null)
        {
            var model = OfferCheckpoint(options.CheckpointPath, options.Model!);
            model = model with { MsPerLayer = await Task.Run(() => Calibrate(model), cancellationToken).ConfigureAwait(false) };
            _model = model;
            StartChain();
        }

        // The broker: given, hosted here, or found by mDNS; the data endpoint is the address the others reach us on.
        string? broker = options.Broker;
        var advertise = true;
        BrokerAddress? resolved = null;
        if (broker is null)
        {
            resolved = await BrokerLocator.ResolveAsync(options.Pool, null, null, cancellationToken).ConfigureAwait(false);
            broker = resolved.ToString();
            advertise = false;   // the node that answered advertises already
        }
        else if (broker != PoolPresenceOptions.Embedded)
        {
            resolved = BrokerAddress.Parse(broker);
        }
        var address = resolved is null ? LanAddress() : AddressToward(resolved.Host);
        var state = new NodeState
        {
            NodeId = options.NodeId,
            AgentVersion = typeof(PoolDaemon).Assembly.GetName().Version?.ToString() ?? "",
            DataEndpoint = $"{address}:{_chain?.Port ?? options.DataPort}",
            Status = NodeStatus.Joining,
            WeightsMaxBytes = options.MaxMemoryBytes,
            WeightsFreeBytes = options.MaxMemoryBytes,
            KvBudgetBytes = options.KvMemoryBytes,
            Threads = _chain?.Threads ?? options.Runtime.Options.Threads,
            MaxThreads = options.Governed?.Governor?.Policy.MaxThreads,
            Models = _model is { } offered ? [offered] : [],
        };
        _presence = await PoolPresence.StartAsync(new PoolPresenceOptions
            {
                Pool = options.Pool, Broker = broker, Advertise = advertise,
                // With a secret the broker login is the pool's name and the secret, unless --broker's URL names its own.
                UserName = options.PoolSecret is null || resolved?.UserName is not null ? null : options.Pool,
                Password = options.PoolSecret is null || resolved?.UserName is not null ? null : options.PoolSecret,
            },
            state, loggers.CreateLogger("EdgeNode.Pool"), cancellationToken).ConfigureAwait(false);
        _presence.Node.AssignmentChanged += change => _changes.Writer.TryWrite(change);
        _worker = Task.Run(() => ObeyAsync(_stop.Token), CancellationToken.None);
        if (options.Governed is { } governed)
        {
            _governance = new PoolGovernance(governed, this, _log);
            _governance.Start();
        }
        if (_model is { } local)
        {
            await MarkReadyAsync(cancellationToken).ConfigureAwait(false);
            Log.Joined(_log, options.Pool, _presence.Broker.ToString(), options.NodeId, state.DataEndpoint, local.Name, local.Layers, options.MaxMemoryBytes,
                ModelSizes.Whole(local), local.MsPerLayer ?? 0);
        }
        else
        {
            Log.JoinedWithoutModel(_log, options.Pool, _presence.Broker.ToString(), options.NodeId, state.DataEndpoint, options.Model ?? "(any)", options.MaxMemoryBytes);
            _adopting = Task.Run(() => AdoptAsync(_stop.Token), CancellationToken.None);
        }
    }

    /// <summary>The data plane's counters now (zeros before it starts or after it stops).</summary>
    public PoolNodeCounters Counters()
    {
        var chain = _chain;
        return new PoolNodeCounters
        {
            NodeId = options.NodeId,
            Epoch = chain?.Epoch ?? 0,
            ActiveSessions = chain?.ActiveSessions ?? 0,
            DecodeFramesSent = chain?.DecodeFramesSent ?? 0,
            DecodeBytesSent = chain?.DecodeBytesSent ?? 0,
        };
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _changes.Writer.TryComplete();
        await _worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _adopting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_governance is not null)
            await _governance.DisposeAsync().ConfigureAwait(false);
        _governance = null;
        // Leave first: the leader re-plans without this node while its data plane still answers.
        if (_presence is not null)
            await _presence.DisposeAsync().ConfigureAwait(false);
        _presence = null;
        if (_chain is not null)
            await _chain.DisposeAsync().ConfigureAwait(false);
        _chain = null;
        if (_slices is not null)
            await _slices.DisposeAsync().ConfigureAwait(false);
        _slices = null;
        Log.Left(_log, options.Pool, options.NodeId);
    }

    /// <summary>What this node offers from its own checkpoint: the model's sizes at the serve precision and the checkpoint's hash.</summary>
    private ServableModel OfferCheckpoint(string path, string name)
    {
        var source = CheckpointSource.Open(path, null);
        _checkpoint = source.CheckpointPath;
        var config = CheckpointReader.ReadConfig(_checkpoint);
        var sha = HashFiles(source.Files);
        _sliceFolder = SliceFolderOf(name, sha, options.Precision.ToName());
        Directory.CreateDirectory(_sliceFolder);
        _tokenizerPath = source.TokenizerPath(_sliceFolder);
        return ModelSizes.Servable(name, config, options.Precision, new FileInfo(_tokenizerPath).Length, sha) with { Precision = options.Precision.ToName() };
    }

    /// <summary>$EDGENODE_HOME/slices/MODEL-SHA12-PRECISION: built and fetched slices of one model's weights alike.</summary>
    private string SliceFolderOf(string model, string sha, string precision) => Path.Combine(options.SlicesHome, $"{model}-{sha[..Math.Min(12, sha.Length)]}-{precision}-g{LlamaSliceBuilder.GraphRevision}");

    private void StartChain()
    {
        lock (_threadsGate)
        {
            var chain = new ChainNode(new ChainNodeOptions
            {
                ModelFolder = _sliceFolder, Runtime = options.Runtime, Port = options.DataPort, Logger = loggers.CreateLogger("EdgeNode.Pool.Chain"),
                Handshake = _handshake, Threads = _threads,
            });
            chain.Start();
            _chain = chain;
        }
    }

    /// <summary>
    /// Measures this node's speed before it joins, so the first plan already sizes ranges by it: one layer is built
    /// from the checkpoint into a scratch folder, timed (<see cref="LayerSpeedProbe"/>) and deleted. Unmeasured
    /// (null) when that fails: the planner then assumes the pool's median speed.
    /// </summary>
    private double? Calibrate(ServableModel model)
    {
        var scratch = Path.Combine(options.SlicesHome, $".calibration-{Environment.ProcessId}");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            SliceBuilder.Build(_checkpoint!, null, [SliceSpec.Layers(0, 1)], scratch, new ConversionOptions { Precision = options.Precision, Name = model.Name }, null);
            var ms = LayerSpeedProbe.Measure(options.Runtime, scratch, new SliceAssignment(options.NodeId, 0, 1, false, false, ""));
            Log.Measured(_log, model.Name, Math.Round(ms, 4), "one layer built for calibration", Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1));
            return Math.Round(ms, 4);
        }
        catch (Exception e) when (e is IOException or EdgeNode.Models.ModelFormatException or InvalidOperationException or ArgumentException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            Log.NotMeasured(_log, model.Name, e.Message);
            return null;
        }
        finally
        {
            try
            {
                if (Directory.Exists(scratch))
                    Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
                // a leftover scratch folder costs one layer of disk, not the node
            }
        }
    }

    /// <summary>
    /// A node without model files takes up the model the pool holds (--pool-model, or the first a peer holds whole):
    /// its sizes and hash as the holders publish them, marked not local. Waits, logging every few seconds, until a
    /// peer publishes one; the node stays `joining` meanwhile, so no plan counts on it.
    /// </summary>
    private async Task AdoptAsync(CancellationToken cancellationToken)
    {
        var waitingSince = System.Diagnostics.Stopwatch.GetTimestamp();
        var lastLog = 0L;
        try
        {
            while (true)
            {
                var view = _presence!.Node.Membership.View;
                if (SlicePeers.Adoptable(view, options.NodeId, options.Model) is { } model)
                {
                    _sliceFolder = SliceFolderOf(model.Name, model.Sha256, model.Precision ?? "fp32");
                    Directory.CreateDirectory(_sliceFolder);
                    StartChain();
                    _model = model;
                    await _presence.Node.UpdateAsync(s => s with { Models = [model] }, cancellationToken).ConfigureAwait(false);
                    await MarkReadyAsync(cancellationToken).ConfigureAwait(false);
                    Log.Adopted(_log, model.Name, model.Layers, model.Precision ?? "fp32", model.Sha256[..Math.Min(12, model.Sha256.Length)], _sliceFolder,
                        Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(waitingSince).TotalMilliseconds, 1));
                    return;
                }
                if (lastLog == 0 || System.Diagnostics.Stopwatch.GetElapsedTime(lastLog) >= s_waitLogInterval)
                {
                    lastLog = System.Diagnostics.Stopwatch.GetTimestamp();
                    Log.WaitingForModel(_log, options.Model ?? "any model");
                }
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            Log.CannotAdopt(_log, e.Message);
        }
    }

    /// <summary>Ready for layers: `serving`, unless the governor drained the node meanwhile (it stays `draining` until resumed).</summary>
    private async Task MarkReadyAsync(CancellationToken cancellationToken)
    {
        lock (_statusGate)
        {
            _ready = true;
            if (_drained)
                return;
        }
        await _presence!.Node.ServeAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        lock (_statusGate)
            _drained = true;
        if (_presence is { } presence)
            await presence.Node.DrainAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        lock (_statusGate)
        {
            _drained = false;
            if (!_ready)
                return;   // still fetching its model: it serves once ready
        }
        if (_presence is { } presence)
            await presence.Node.ResumeAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The governor's thread step: the chain re-opens its slices with <paramref name="threads"/> on its worker (or, with
    /// no chain yet, opens its first ones so), and the node publishes the count it runs with. Slices that could be opened
    /// at neither count leave the node unable to run its layers: it refuses the plan, so the leader plans without it.
    /// </summary>
    public async Task SetThreadsAsync(int threads, string why, CancellationToken cancellationToken)
    {
        ChainNode? chain;
        lock (_threadsGate)
        {
            _threads = threads;
            chain = _chain;
        }
        var running = threads;
        if (chain is not null)
        {
            try
            {
                running = (await chain.ChangeThreadsAsync(threads, why).WaitAsync(cancellationToken).ConfigureAwait(false)).To;
            }
            catch (EdgeNode.Inference.Sessions.SliceReopenException e)
            {
                running = chain.Threads;
                if (!chain.SlicesLoaded && chain.Epoch > 0 && _model is { } model && _presence is { } lost)
                    await lost.Node.RefuseAsync(model.Name, chain.Epoch, $"cannot open its slices after a thread change: {e.Message}", cancellationToken).ConfigureAwait(false);
                await PublishThreadsAsync(running, cancellationToken).ConfigureAwait(false);
                throw;
            }
        }
        await PublishThreadsAsync(running, cancellationToken).ConfigureAwait(false);
    }

    private Task PublishThreadsAsync(int threads, CancellationToken cancellationToken) =>
        _presence?.Node.UpdateAsync(s => s with { Threads = threads }, cancellationToken) ?? Task.CompletedTask;

    public Task UpdateAsync(Func<NodeState, NodeState> change, CancellationToken cancellationToken) =>
        _presence?.Node.UpdateAsync(change, cancellationToken) ?? Task.CompletedTask;

    private async Task ObeyAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _changes.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                AssignmentChange? latest = null;
                while (_changes.Reader.TryRead(out var c))
                {
                    if (c.Plan.Model == _model?.Name)
                        latest = c;
                }
                if (latest is not null)
                    await ApplyAsync(latest, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task ApplyAsync(AssignmentChange change, CancellationToken cancellationToken)
    {
        var plan = change.Plan;
        var mine = change.Assignment;
        var model = _model!;
        if (mine is null)
        {
            Log.NotInPlan(_log, plan.Model, plan.Epoch);
        }
        else
        {
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var spec = new SliceSpec(mine.Embed, mine.FirstLayer, mine.EndLayer, mine.Head);
                var got = false;
                if ((spec.Embed || spec.HasLayers || spec.Head) && !File.Exists(Path.Combine(_sliceFolder, spec.FileName)))
                {
                    if (_checkpoint is not null)
                        await BuildAsync(plan, spec, cancellationToken).ConfigureAwait(false);
                    else
                        await FetchAsync(plan, model, spec, cancellationToken).ConfigureAwait(false);
                    got = true;
                }
                var builtMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                await _chain!.ApplyPlan(plan, options.NodeId).WaitAsync(cancellationToken).ConfigureAwait(false);
                if (got)
                    PublishSlices(plan.Model);
                Log.Serving(_log, plan.Model, plan.Epoch, mine.FirstLayer, mine.EndLayer, mine.Embed, mine.Head, got, Math.Round(builtMs, 1),
                    Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1));
                if (model.MsPerLayer is null && mine.LayerCount > 0)
                    await MeasureAsync(model, mine, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var reason = $"cannot serve layers [{mine.FirstLayer},{mine.EndLayer}) of '{plan.Model}': {e.Message}";
                Log.Refusing(_log, plan.Model, plan.Epoch, reason);
                if (_presence is not null)
                    await _presence.Node.RefuseAsync(plan.Model, plan.Epoch, reason, cancellationToken).ConfigureAwait(false);
            }
        }
        if (_checkpoint is not null)
            await BuildForPeersAsync(plan, model, cancellationToken).ConfigureAwait(false);
    }

    private async Task BuildAsync(PoolPlan plan, SliceSpec spec, CancellationToken cancellationToken)
    {
        var progress = new Progress<string>(line => Log.Building(_log, plan.Model, plan.Epoch, line));
        await Task.Run(() => SliceBuilder.Build(_checkpoint!,
            spec.Embed || spec.Head ? _tokenizerPath : null, [spec], _sliceFolder,
            new ConversionOptions { Precision = options.Precision, Name = plan.Model }, progress), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>This node's slice from the peers that hold it (the provider builds it if nobody has it yet).</summary>
    private async Task FetchAsync(PoolPlan plan, ServableModel model, SliceSpec spec, CancellationToken cancellationToken)
    {
        var lastWaitLog = 0L;
        var result = await PeerSliceFetch.FetchAsync(
            () => SlicePeers.For(_presence!.Node.Membership.View, options.NodeId, model),
            model.Name, model.Precision ?? "fp32", spec, _sliceFolder,
            new SliceFetchOptions { MaxBytesPerSecond = options.FetchBytesPerSecond, Connect = _handshake?.Connector() },
            options.FetchSourceWait,
            new FetchProgressLog(p => Log.Fetching(_log, plan.Model, plan.Epoch, p.ToString())),
            why =>
            {
                if (lastWaitLog != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(lastWaitLog) < s_waitLogInterval)
                    return;
                lastWaitLog = System.Diagnostics.Stopwatch.GetTimestamp();
                Log.WaitingForSlice(_log, plan.Model, plan.Epoch, spec.ToString(), why);
            },
            cancellationToken).ConfigureAwait(false);
        Log.Fetched(_log, plan.Model, plan.Epoch, spec.ToString(), result.BytesTotal, result.BytesTransferred, result.BytesResumed,
            Math.Round(result.Elapsed.TotalMilliseconds, 1), Math.Round(result.BytesPerSecond / 1e6, 2), options.FetchBytesPerSecond ?? 0);
    }

    /// <summary>
    /// A node that fetched its slice measures its speed on it once it serves (it had nothing to calibrate on before):
    /// published with the next state; the leader sizes ranges by it at the next re-plan (speed alone never re-plans).
    /// </summary>
    private async Task MeasureAsync(ServableModel model, SliceAssignment mine, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        double ms;
        try
        {
            ms = Math.Round(await Task.Run(() => LayerSpeedProbe.Measure(options.Runtime, _sliceFolder, mine), cancellationToken).ConfigureAwait(false), 4);
        }
        catch (Exception e) when (e is IOException or EdgeNode.Models.ModelFormatException or InvalidOperationException or ArgumentException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            Log.NotMeasured(_log, model.Name, e.Message);
            return;
        }
        _model = model with { MsPerLayer = ms };
        Log.Measured(_log, model.Name, ms, $"its slice [{mine.FirstLayer},{mine.EndLayer})", Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1));
        await _presence!.Node.UpdateAsync(s => s with { Models = [.. s.Models.Select(m => m.Name == model.Name ? m with { MsPerLayer = ms } : m)] }, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// The provider builds the slices the plan gives to nodes without the checkpoint and offers them on its slice
    /// server; a failure here is logged (those nodes wait, then refuse, and the leader plans without them).
    /// </summary>
    private async Task BuildForPeersAsync(PoolPlan plan, ServableModel model, CancellationToken cancellationToken)
    {
        if (_presence is null)
            return;
        var duties = SlicePeers.ToBuildFor(plan, _presence.Node.Membership.View, options.NodeId, model);
        var built = false;
        foreach (var a in duties)
        {
            var spec = new SliceSpec(a.Embed, a.FirstLayer, a.EndLayer, a.Head);
            if (File.Exists(Path.Combine(_sliceFolder, spec.FileName)))
                continue;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await BuildAsync(plan, spec, cancellationToken).ConfigureAwait(false);
                built = true;
                Log.BuiltForPeer(_log, plan.Model, plan.Epoch, spec.ToString(), a.NodeId, Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.NotBuiltForPeer(_log, plan.Model, plan.Epoch, spec.ToString(), a.NodeId, e.Message);
            }
        }
        if (built)
            PublishSlices(plan.Model);
    }

    /// <summary>Offers the slices built so far to peers; a failure here costs the peers a source, not this node its plan.</summary>
    private void PublishSlices(string model)
    {
        try
        {
            _slices?.Publish(model, _sliceFolder);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or EdgeNode.Models.ModelFormatException)
        {
            Log.NotPublished(_log, model, e.Message);
        }
    }

    /// <summary>The checkpoint's identity: the sha256 over its files (weights and tokenizer) in order.</summary>
    private static string HashFiles(IReadOnlyList<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            var buffer = new byte[1 << 20];
            int read;
            while ((read = stream.Read(buffer)) > 0)
                hash.AppendData(buffer.AsSpan(0, read));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The local address the route to <paramref name="host"/> leaves from (no packet is sent: a UDP connect only picks the route).</summary>
    private static string AddressToward(string host)
    {
        try
        {
            var target = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
            if (IPAddress.IsLoopback(target))
                return LanAddress();
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            probe.Connect(new IPEndPoint(target, 9));
            return ((IPEndPoint)probe.LocalEndPoint!).Address.ToString();
        }
        catch (SocketException)
        {
            return LanAddress();
        }
    }

    /// <summary>The first IPv4 address of an interface that is up and not loopback (loopback when there is none).</summary>
    private static string LanAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString()
        ?? IPAddress.Loopback.ToString();

    public async ValueTask DisposeAsync()
    {
        if (_presence is not null || _chain is not null)
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "pool {Pool}: joined through {Broker} as {NodeId}, data {DataEndpoint}; offers {Model} ({Layers} layers, {WholeBytes} bytes whole, {MsPerLayer} ms/layer) within {MaxMemoryBytes} bytes")]
        public static partial void Joined(ILogger logger, string pool, string broker, string nodeId, string dataEndpoint, string model, int layers, long maxMemoryBytes, long wholeBytes, double msPerLayer);

        [LoggerMessage(8, LogLevel.Information, "pool {Pool}: joined through {Broker} as {NodeId}, data {DataEndpoint}; no model files: takes up {Model} from peers within {MaxMemoryBytes} bytes")]
        public static partial void JoinedWithoutModel(ILogger logger, string pool, string broker, string nodeId, string dataEndpoint, string model, long maxMemoryBytes);

        [LoggerMessage(9, LogLevel.Information, "waiting for a peer that holds {Model} whole")]
        public static partial void WaitingForModel(ILogger logger, string model);

        [LoggerMessage(10, LogLevel.Information, "takes up {Model} ({Layers} layers, {Precision}, sha256 {Sha12}) from peers after {WaitedMs} ms; its slices go to {Folder}")]
        public static partial void Adopted(ILogger logger, string model, int layers, string precision, string sha12, string folder, double waitedMs);

        [LoggerMessage(11, LogLevel.Error, "cannot take up a model from the pool: {Reason}")]
        public static partial void CannotAdopt(ILogger logger, string reason);

        [LoggerMessage(12, LogLevel.Information, "plan {Model} epoch {Epoch}: fetching: {Progress}")]
        public static partial void Fetching(ILogger logger, string model, long epoch, string progress);

        [LoggerMessage(13, LogLevel.Information, "plan {Model} epoch {Epoch}: slice {Slice} not offered yet: {Why}")]
        public static partial void WaitingForSlice(ILogger logger, string model, long epoch, string slice, string why);

        [LoggerMessage(14, LogLevel.Information, "plan {Model} epoch {Epoch}: fetched slice {Slice}: {Bytes} bytes ({TransferredBytes} over the network, {ResumedBytes} resumed) in {FetchMs} ms, {MegabytesPerSecond} MB/s (cap {CapBytesPerSecond} B/s, 0: none)")]
        public static partial void Fetched(ILogger logger, string model, long epoch, string slice, long bytes, long transferredBytes, long resumedBytes, double fetchMs, double megabytesPerSecond, long capBytesPerSecond);

        [LoggerMessage(15, LogLevel.Information, "{Model}: measured {MsPerLayer} ms per layer on {Over} in {MeasureMs} ms")]
        public static partial void Measured(ILogger logger, string model, double msPerLayer, string over, double measureMs);

        [LoggerMessage(16, LogLevel.Warning, "{Model}: speed not measured, the planner assumes the pool's median: {Reason}")]
        public static partial void NotMeasured(ILogger logger, string model, string reason);

        [LoggerMessage(17, LogLevel.Information, "plan {Model} epoch {Epoch}: built slice {Slice} for {NodeId} (no checkpoint there) in {BuildMs} ms")]
        public static partial void BuiltForPeer(ILogger logger, string model, long epoch, string slice, string nodeId, double buildMs);

        [LoggerMessage(18, LogLevel.Warning, "plan {Model} epoch {Epoch}: could not build slice {Slice} for {NodeId}: {Reason}")]
        public static partial void NotBuiltForPeer(ILogger logger, string model, long epoch, string slice, string nodeId, string reason);

        [LoggerMessage(19, LogLevel.Warning, "{Line}")]
        public static partial void SliceServer(ILogger logger, string line);

        [LoggerMessage(2, LogLevel.Information, "pool {Pool}: {NodeId} left")]
        public static partial void Left(ILogger logger, string pool, string nodeId);

        [LoggerMessage(3, LogLevel.Information, "plan {Model} epoch {Epoch}: nothing for this node")]
        public static partial void NotInPlan(ILogger logger, string model, long epoch);

        [LoggerMessage(4, LogLevel.Information, "plan {Model} epoch {Epoch}: building slice: {Progress}")]
        public static partial void Building(ILogger logger, string model, long epoch, string progress);

        [LoggerMessage(5, LogLevel.Information, "plan {Model} epoch {Epoch}: serving layers [{FirstLayer},{EndLayer}) embed={Embed} head={Head}; built={Built} in {BuildMs} ms, serving after {ReadyMs} ms")]
        public static partial void Serving(ILogger logger, string model, long epoch, int firstLayer, int endLayer, bool embed, bool head, bool built, double buildMs, double readyMs);

        [LoggerMessage(7, LogLevel.Warning, "slices of {Model} not offered to peers: {Reason}")]
        public static partial void NotPublished(ILogger logger, string model, string reason);

        [LoggerMessage(6, LogLevel.Warning, "plan {Model} epoch {Epoch}: refused: {Reason}")]
        public static partial void Refusing(ILogger logger, string model, long epoch, string reason);
    }
}
