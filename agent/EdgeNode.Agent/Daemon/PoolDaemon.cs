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
using EdgeNode.Pool.Slices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Agent.Daemon;

/// <summary>
/// The pool node inside `edgenode serve`: publishes what this node offers (its model's shape and weights hash, its
/// memory budgets, its data endpoint), runs the data plane (<see cref="ChainNode"/>) and the slice server, and on every
/// plan builds the slice it was given from the local checkpoint and switches the chain over. A slice it cannot build
/// or load is refused with the reason, so the leader plans without it. Stopping leaves the pool first (the others
/// re-plan at once), then closes the data plane.
/// </summary>
internal sealed partial class PoolDaemon(PoolDaemonOptions options, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _log = loggers.CreateLogger("EdgeNode.Pool.Daemon");
    private readonly Channel<AssignmentChange> _changes = Channel.CreateUnbounded<AssignmentChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private PoolPresence? _presence;
    private ChainNode? _chain;
    private SliceServer? _slices;
    private Task _worker = Task.CompletedTask;
    private string _sliceFolder = "";
    private string? _tokenizerPath;
    private string _checkpoint = "";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var source = CheckpointSource.Open(options.CheckpointPath, null);
        _checkpoint = source.CheckpointPath;
        var config = CheckpointReader.ReadConfig(_checkpoint);
        var sha = HashFiles(source.Files);
        _sliceFolder = Path.Combine(options.SlicesHome, $"{options.Model}-{sha[..12]}-{options.Precision.ToName()}");
        Directory.CreateDirectory(_sliceFolder);
        _tokenizerPath = source.TokenizerPath(_sliceFolder);
        var model = ModelSizes.Servable(options.Model, config, options.Precision, new FileInfo(_tokenizerPath).Length, sha);

        _chain = new ChainNode(new ChainNodeOptions
        {
            ModelFolder = _sliceFolder, Runtime = options.Runtime, Port = options.DataPort, Logger = loggers.CreateLogger("EdgeNode.Pool.Chain"),
        });
        _chain.Start();
        _slices = SliceServer.Start(new IPEndPoint(IPAddress.Any, options.DataPort + 1), new Dictionary<string, string>());

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
            DataEndpoint = $"{address}:{_chain.Port}",
            Status = NodeStatus.Joining,
            WeightsMaxBytes = options.MaxMemoryBytes,
            WeightsFreeBytes = options.MaxMemoryBytes,
            KvBudgetBytes = options.KvMemoryBytes,
            Threads = options.Runtime.Options.Threads,
            Models = [model],
        };
        _presence = await PoolPresence.StartAsync(new PoolPresenceOptions { Pool = options.Pool, Broker = broker, Advertise = advertise },
            state, loggers.CreateLogger("EdgeNode.Pool"), cancellationToken).ConfigureAwait(false);
        _presence.Node.AssignmentChanged += change => _changes.Writer.TryWrite(change);
        _worker = Task.Run(() => ObeyAsync(_stop.Token), CancellationToken.None);
        await _presence.Node.ServeAsync(cancellationToken).ConfigureAwait(false);
        Log.Joined(_log, options.Pool, _presence.Broker.ToString(), options.NodeId, state.DataEndpoint, options.Model, model.Layers, options.MaxMemoryBytes,
            ModelSizes.Whole(model));
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

    private async Task ObeyAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _changes.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                AssignmentChange? latest = null;
                while (_changes.Reader.TryRead(out var c))
                {
                    if (c.Plan.Model == options.Model)
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
        if (mine is null)
        {
            Log.NotInPlan(_log, plan.Model, plan.Epoch);
            return;
        }
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var spec = new SliceSpec(mine.Embed, mine.FirstLayer, mine.EndLayer, mine.Head);
            var built = false;
            if ((spec.Embed || spec.HasLayers || spec.Head) && !File.Exists(Path.Combine(_sliceFolder, spec.FileName)))
            {
                var progress = new Progress<string>(line => Log.Building(_log, plan.Model, plan.Epoch, line));
                await Task.Run(() => SliceBuilder.Build(_checkpoint,
                    spec.Embed || spec.Head ? _tokenizerPath : null, [spec], _sliceFolder,
                    new ConversionOptions { Precision = options.Precision, Name = options.Model }, progress), cancellationToken).ConfigureAwait(false);
                built = true;
            }
            var builtMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await _chain!.ApplyPlan(plan, options.NodeId).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (built)
                PublishSlices(plan.Model);
            Log.Serving(_log, plan.Model, plan.Epoch, mine.FirstLayer, mine.EndLayer, mine.Embed, mine.Head, built, Math.Round(builtMs, 1),
                Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var reason = $"cannot serve layers [{mine.FirstLayer},{mine.EndLayer}) of '{plan.Model}': {e.Message}";
            Log.Refusing(_log, plan.Model, plan.Epoch, reason);
            if (_presence is not null)
                await _presence.Node.RefuseAsync(plan.Model, plan.Epoch, reason, cancellationToken).ConfigureAwait(false);
        }
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
        [LoggerMessage(1, LogLevel.Information, "pool {Pool}: joined through {Broker} as {NodeId}, data {DataEndpoint}; offers {Model} ({Layers} layers, {WholeBytes} bytes whole) within {MaxMemoryBytes} bytes")]
        public static partial void Joined(ILogger logger, string pool, string broker, string nodeId, string dataEndpoint, string model, int layers, long maxMemoryBytes, long wholeBytes);

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
