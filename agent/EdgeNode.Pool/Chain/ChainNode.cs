using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using EdgeNode.Pool.DataPlane;
using EdgeNode.Pool.Planning;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Pool.Chain;

/// <summary>
/// A node's data-plane runtime for its part of a <see cref="PoolPlan"/>: it holds its slices, listens on its data
/// port, keeps every session's KV cache for its layers (sticky), and passes each step on to the next node of the
/// chain over one TCP connection per neighbour that all sessions share. The entry (embedding + tokenizer) coordinates
/// each session for its client; the last node (head) samples and sends the token back to the entry: a ring of N hops
/// per token. Frames of another epoch than the applied plan's are refused, so two plans never serve at once.
/// <para>
/// Threading: connections read on the thread pool and queue what they receive; one dedicated worker thread owns the
/// sessions and runs the slices, so sessions on one node take turns and sessions on different nodes overlap
/// (a chain is a pipeline).
/// </para>
/// </summary>
public sealed partial class ChainNode : IFrameHandler, IAsyncDisposable
{
    private readonly ChainNodeOptions _options;
    private readonly ILogger _log;
    private readonly ChainWorkQueue _queue = new(DataPlaneLimits.WorkQueueFrames);
    private readonly ConcurrentDictionary<FrameConnection, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly HiddenStateCodec _codec = new();
    private Socket? _listener;
    private Thread? _worker;
    private Task? _acceptLoop;
    private Task? _timerLoop;
    private long _epoch;
    private int _disposed;

    // Owned by the worker thread.
    private readonly Dictionary<ulong, ChainSession> _sessions = [];
    private PoolPlan? _plan;
    private int _hop = -1;
    private NodeSlices? _slices;
    private FrameConnection? _next;
    private float[] _hidden = [];
    private float[] _logits = [];
    private readonly int[] _oneToken = new int[1];

    public ChainNode(ChainNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = options.Logger;
        _threads = options.Threads ?? options.Runtime.Options.Threads;
        NodeId = "";
    }

    /// <summary>This node's id in the applied plan ("" before the first plan).</summary>
    public string NodeId { get; private set; }

    /// <summary>The epoch of the plan this node serves; 0 before the first.</summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>The port the data plane listens on (after <see cref="Start"/>).</summary>
    public int Port { get; private set; }

    /// <summary>Sessions open on this node (read from any thread; a moment's value).</summary>
    public int ActiveSessions => Volatile.Read(ref _activeSessions);

    private int _activeSessions;
    private long _decodeFramesSent;
    private long _decodeBytesSent;

    private long _workerAllocatedBytes;
    private long _framesProcessed;

    /// <summary>Managed bytes the worker thread has allocated so far (with <see cref="FramesProcessed"/>: what a step costs the GC).</summary>
    public long WorkerAllocatedBytes => Interlocked.Read(ref _workerAllocatedBytes);

    /// <summary>Frames the worker has handled.</summary>
    public long FramesProcessed => Interlocked.Read(ref _framesProcessed);

    /// <summary>Hidden frames of one position (decode steps) this node has sent to its next node.</summary>
    public long DecodeFramesSent => Interlocked.Read(ref _decodeFramesSent);

    /// <summary>Bytes on the wire (header included) of those frames: a decode step's cost per hop.</summary>
    public long DecodeBytesSent => Interlocked.Read(ref _decodeBytesSent);

    /// <summary>Binds the data port and starts the worker. Call once, before or after the first plan.</summary>
    public void Start()
    {
        if (_listener is not null)
            throw new InvalidOperationException("the chain node is already started");
        var listener = new Socket(_options.ListenAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(_options.ListenAddress, _options.Port));
            listener.Listen(64);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new IOException($"cannot listen for the data plane on {_options.ListenAddress}:{_options.Port}: {e.SocketErrorCode}; pick another --data-port", e);
        }
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _worker = new Thread(WorkerLoop) { IsBackground = true, Name = "chain-node-worker" };
        _worker.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
        _timerLoop = Task.Run(TimerLoopAsync);
        ChainLog.Listening(_log, NodeId, $"{_options.ListenAddress}:{Port}");
    }

    /// <summary>
    /// Serves <paramref name="plan"/> as <paramref name="myNodeId"/>: opens this node's slices (kept when the
    /// assignment is unchanged), then switches the worker over. Sessions of an earlier epoch end with an error (their
    /// coordinator may replay them on the new chain). Completes once frames of the new epoch are accepted.
    /// </summary>
    /// <exception cref="ArgumentException">The plan does not name this node.</exception>
    /// <exception cref="EdgeNode.Models.ModelFormatException">The model folder lacks this node's slice.</exception>
    public Task ApplyPlan(PoolPlan plan, string myNodeId)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrEmpty(myNodeId);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_worker is null)
            throw new InvalidOperationException("start the chain node (Start) before applying a plan: the worker applies it");
        var hop = -1;
        for (var i = 0; i < plan.Assignments.Count; i++)
        {
            if (plan.Assignments[i].NodeId == myNodeId)
                hop = i;
        }
        if (hop < 0)
            throw new ArgumentException($"plan epoch {plan.Epoch} of pool {plan.Pool} has no assignment for node {myNodeId}");
        var assignment = plan.Assignments[hop];
        if (hop == 0 != assignment.Embed || hop == plan.Assignments.Count - 1 != assignment.Head)
            throw new ArgumentException($"plan epoch {plan.Epoch}: the embedding must be on the first node of the chain and the head on the last");
        if (plan.Epoch <= 0)
            throw new ArgumentException($"plan epochs start at 1, got {plan.Epoch}");
        var current = Volatile.Read(ref _slices);
        // Opened with the count the node runs with now; should a thread step land before the worker switches over,
        // the worker re-opens them at the new count (OnPlan).
        var slices = current is not null && current.IsLoaded && SameSlice(current.Assignment, assignment)
            ? current
            : NodeSlices.Load(_options.Runtime, _options.ModelFolder, assignment, Threads);
        var change = new PlanChange(plan, myNodeId, hop, slices);
        _queue.Post(new ChainWork { Kind = ChainWorkKind.Plan, State = change });
        return change.Applied.Task;
    }

    private static bool SameSlice(SliceAssignment a, SliceAssignment b) =>
        a.FirstLayer == b.FirstLayer && a.EndLayer == b.EndLayer && a.Embed == b.Embed && a.Head == b.Head;

    private sealed class PlanChange(PoolPlan plan, string nodeId, int hop, NodeSlices slices)
    {
        public PoolPlan Plan { get; } = plan;
        public string NodeId { get; } = nodeId;
        public int Hop { get; } = hop;
        public NodeSlices Slices { get; } = slices;
        public TaskCompletionSource Applied { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                    return;
                continue;
            }
            if (_options.Handshake is null)
                Serve(socket);
            else
                _ = AuthenticateThenServeAsync(socket, _options.Handshake);
        }
    }

    private void Serve(Socket socket)
    {
        var connection = FrameConnection.Accept(socket, this);
        _connections[connection] = 0;
        connection.Start();
        connection.SendHello(NodeId, Epoch);
    }

    /// <summary>The pool's challenge, off the accept loop (a silent peer must not hold up the others), then the frames.</summary>
    private async Task AuthenticateThenServeAsync(Socket socket, Security.PoolHandshake handshake)
    {
        string? refusal;
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            refusal = await handshake.AcceptAsync(stream, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            refusal = $"the pool handshake failed: {e.Message}";
        }
        if (refusal is null && Volatile.Read(ref _disposed) == 0)
        {
            Serve(socket);
            return;
        }
        if (refusal is not null)
            ChainLog.PeerRefused(_log, NodeId, socket.RemoteEndPoint?.ToString() ?? "?", refusal);
        await CloseAfterRefusalAsync(socket).ConfigureAwait(false);
    }

    /// <summary>
    /// Closing with the peer's bytes unread would reset the connection, and the peer might never read why it was
    /// refused: finish sending, read what it still sends (for at most a second), then close.
    /// </summary>
    private static async Task CloseAfterRefusalAsync(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
            var sink = new byte[4096];
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            while (await socket.ReceiveAsync(sink, SocketFlags.None, limit.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Gone or silent: close anyway.
        }
        socket.Dispose();
    }

    private async Task TimerLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        var ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                foreach (var connection in _connections.Keys)
                    connection.Tick();
                if (++ticks % 2 == 0)
                    _queue.Post(new ChainWork { Kind = ChainWorkKind.Deadlines });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // --- IFrameHandler: on the connections' read loops ---

    async ValueTask IFrameHandler.OnFrameAsync(FrameConnection connection, ParsedFrame frame)
    {
        var header = frame.Header;
        if (header.Type == FrameType.Hello)
            return;
        if (!EpochAccepted(connection, header))
        {
            var serving = Epoch;
            var reason = serving == 0
                ? $"frame of epoch {header.Epoch}, but node {NodeId} serves no plan yet"
                : $"frame of epoch {header.Epoch}, node {NodeId} serves epoch {serving}";
            Reject(connection, header, FrameRejection.StaleEpoch, reason, ChainErrorCode.StaleEpoch);
            return;
        }
        var length = (int)frame.Payload.Length;
        byte[]? payload = null;
        if (length > 0)
        {
            payload = ArrayPool<byte>.Shared.Rent(length);
            frame.Payload.CopyTo(payload);
        }
        await _queue.EnqueueFrameAsync(new ChainWork
        {
            Kind = ChainWorkKind.Frame, Connection = connection, Header = header, Payload = payload, PayloadLength = length,
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Nodes stamp every frame with the plan's epoch and it must be this node's. A client knows no epoch: its Open, Verify and
    /// End may carry 0.
    /// </summary>
    private bool EpochAccepted(FrameConnection connection, in FrameHeader header)
    {
        var epoch = Epoch;
        if (epoch == 0)
            return false;
        if (header.Epoch == epoch)
            return true;
        return header.Epoch == 0 && IsClient(connection) && header.Type is FrameType.Open or FrameType.End or FrameType.Error or FrameType.Verify;
    }

    private static bool IsClient(FrameConnection connection) => string.IsNullOrEmpty(connection.PeerNodeId);

    void IFrameHandler.OnRejected(FrameConnection connection, FrameHeader header, FrameRejection rejection)
    {
        var reason = rejection switch
        {
            FrameRejection.UnknownVersion => $"protocol version {header.Version}; this node speaks version {FrameHeader.CurrentVersion}",
            FrameRejection.BadChecksum => $"CRC-32C mismatch on a {header.Type} frame of session {header.SessionId:x16} ({header.PayloadLength} B payload)",
            FrameRejection.BadMagic => "bytes that are not a data-plane frame (bad magic); closing the connection",
            FrameRejection.BadLength => $"impossible lengths (header {header.HeaderLength} B, payload {header.PayloadLength} B)",
            _ => rejection.ToString(),
        };
        var code = rejection switch
        {
            FrameRejection.UnknownVersion => ChainErrorCode.UnknownVersion,
            FrameRejection.BadChecksum => ChainErrorCode.BadChecksum,
            _ => ChainErrorCode.Malformed,
        };
        Reject(connection, header, rejection, reason, code);
    }

    private void Reject(FrameConnection connection, in FrameHeader header, FrameRejection rejection, string reason, ChainErrorCode code)
    {
        ChainLog.Rejected(_log, NodeId, connection.PeerName, rejection.ToString(), reason);
        // Never answer an error with an error: two confused peers would echo forever.
        if (header.Type != FrameType.Error)
            connection.SendError(header.SessionId, Epoch, new ChainErrorPayload(code, NodeId, reason));
    }

    void IFrameHandler.OnClosed(FrameConnection connection, string reason)
    {
        _connections.TryRemove(connection, out _);
        if (Volatile.Read(ref _disposed) == 0)
            _queue.Post(new ChainWork { Kind = ChainWorkKind.ConnectionClosed, Connection = connection, State = reason });
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        foreach (var connection in _connections.Keys)
            connection.CloseGracefully($"node {NodeId} is shutting down");
        if (_worker is not null)
        {
            _queue.Post(new ChainWork { Kind = ChainWorkKind.Stop });
            _worker.Join();
        }
        foreach (var connection in _connections.Keys)
            await connection.DisposeAsync().ConfigureAwait(false);
        if (_acceptLoop is not null)
            await _acceptLoop.ConfigureAwait(false);
        if (_timerLoop is not null)
            await _timerLoop.ConfigureAwait(false);
        foreach (var session in _sessions.Values)
            session.Dispose();
        _sessions.Clear();
        _slices?.Dispose();
        _codec.Dispose();
        _queue.Dispose();
        _stopping.Dispose();
    }
}
