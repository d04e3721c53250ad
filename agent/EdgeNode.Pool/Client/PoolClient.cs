using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using EdgeNode.Inference.Generation;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Client;

/// <summary>
/// Generates text through a pool from a machine that holds no model: it connects to the chain's entry node (the one
/// with the embedding and tokenizer), opens sessions there and receives their tokens as the ring produces them. Any
/// number of generations may run at once over the one connection. A chain error (a node lost, a stuck step, a refused
/// request) ends the generation with a <see cref="PoolChainException"/> that names the node; so does the entry
/// falling silent or going away — never a hang.
/// </summary>
public sealed class PoolClient : IFrameHandler, IAsyncDisposable
{
    private readonly ConcurrentDictionary<ulong, Channel<ClientEvent>> _sessions = new();
    private readonly ConcurrentDictionary<ulong, PoolVerifierSession> _verifiers = new();
    private readonly CancellationTokenSource _stopping = new();
    private FrameConnection? _connection;
    private Task? _timer;

    private PoolClient(string entryEndpoint) => EntryEndpoint = entryEndpoint;

    public string EntryEndpoint { get; }

    /// <summary>The entry node's id, from its Hello ("" until it arrived).</summary>
    public string EntryNodeId => _connection?.PeerNodeId ?? "";

    /// <summary>
    /// Longest wait for anything of a session (a token, the end) before giving up on it. The nodes notice a lost or
    /// silent neighbour within seconds and say so; this covers a chain that says nothing at all.
    /// </summary>
    public TimeSpan TokenDeadline { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Bytes this client has sent and received (frames included).</summary>
    public long BytesSent => _connection?.BytesSent ?? 0;
    public long BytesReceived => _connection?.BytesReceived ?? 0;

    /// <summary>Connects to the entry node at <paramref name="entryEndpoint"/> (host:port).</summary>
    /// <exception cref="IOException">The entry cannot be reached.</exception>
    /// <param name="handshake">The pool's secret, for a pool that requires it (`--pool-secret`); null for one that does not.</param>
    public static async Task<PoolClient> ConnectAsync(string entryEndpoint, TimeSpan? tokenDeadline = null, CancellationToken cancellation = default,
        Security.PoolHandshake? handshake = null)
    {
        var client = new PoolClient(entryEndpoint) { TokenDeadline = tokenDeadline ?? TimeSpan.FromSeconds(60) };
        client._connection = await FrameConnection.ConnectAsync(entryEndpoint, client, cancellation, handshake).ConfigureAwait(false);
        client._connection.SendHello("", 0);
        client._timer = Task.Run(client.TickAsync);
        return client;
    }

    /// <summary>
    /// Generates for <paramref name="request"/>, calling <paramref name="onPiece"/> as each token arrives. Cancelling
    /// asks the entry to stop; the result then says Cancelled.
    /// </summary>
    /// <exception cref="PoolChainException">The chain failed or refused the request.</exception>
    public async Task<PoolGenerationResult> GenerateAsync(PoolRequest request, Action<PoolPiece>? onPiece = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Sampling.Validate();
        var connection = _connection ?? throw new InvalidOperationException("the client is not connected");
        ulong id;
        var events = Channel.CreateUnbounded<ClientEvent>(new UnboundedChannelOptions { SingleReader = true });
        do id = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        while (id == 0 || !_sessions.TryAdd(id, events));
        try
        {
            var clock = Stopwatch.StartNew();
            var open = JsonSerializer.SerializeToUtf8Bytes(request.ToOpenRequest(), DataPlaneJsonContext.Default.SessionOpenRequest);
            if (!connection.Send(new FrameHeader(FrameType.Open, id, 0), open))
                throw Lost(connection.CloseReason);
            var tokens = new List<int>();
            var text = new StringBuilder();
            TimeSpan? firstToken = null;
            var cancelSent = false;
            using var deadline = new CancellationTokenSource();
            while (true)
            {
                if (cancellation.IsCancellationRequested && !cancelSent)
                {
                    cancelSent = true;
                    connection.Send(new FrameHeader(FrameType.End, id, 0), default);
                }
                deadline.CancelAfter(TokenDeadline);
                ClientEvent e;
                try
                {
                    using var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancelSent ? CancellationToken.None : cancellation);
                    e = await events.Reader.ReadAsync(either.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellation.IsCancellationRequested && !cancelSent && !deadline.IsCancellationRequested)
                {
                    continue;
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested)
                {
                    connection.Send(new FrameHeader(FrameType.End, id, 0), default);
                    throw new PoolChainException(ChainErrorCode.StepDeadline, EntryNodeId,
                        $"nothing came from the pool for {TokenDeadline.TotalSeconds:0} s (entry {EntryEndpoint}); the session was abandoned");
                }
                if (!deadline.TryReset())
                    throw new InvalidOperationException("the token deadline could not be reset");
                switch (e.Kind)
                {
                    case ClientEventKind.Token:
                        firstToken ??= clock.Elapsed;
                        tokens.Add(e.Token);
                        text.Append(e.Text);
                        onPiece?.Invoke(new PoolPiece(e.Token, e.Text ?? ""));
                        break;
                    case ClientEventKind.End:
                        var summary = e.Summary!;
                        if (summary.TrailingText.Length > 0)
                        {
                            text.Append(summary.TrailingText);
                            onPiece?.Invoke(new PoolPiece(-1, summary.TrailingText));
                        }
                        return new PoolGenerationResult
                        {
                            PromptTokens = summary.PromptTokens,
                            Tokens = summary.Tokens,
                            Text = text.ToString(),
                            StopReason = Enum.TryParse<StopReason>(summary.StopReason, out var reason) ? reason : StopReason.EndOfText,
                            Prefill = TimeSpan.FromMilliseconds(summary.PrefillMs),
                            Decode = TimeSpan.FromMilliseconds(summary.DecodeMs),
                            TimeToFirstToken = firstToken ?? clock.Elapsed,
                            Seed = summary.Seed,
                            Model = summary.Model,
                            Epoch = summary.Epoch,
                            Encoding = summary.Encoding,
                            Hops = summary.Hops,
                        };
                    case ClientEventKind.Error:
                        throw new PoolChainException(e.Error.Code, e.Error.NodeId, e.Error.Message);
                }
            }
        }
        finally
        {
            _sessions.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// A session on which this side drafts and the pool verifies (speculative decoding through the chain), over this
    /// client's connection; any number may run at once, next to plain generations. Opens when the generator calls Open.
    /// </summary>
    public PoolVerifierSession CreateVerifierSession(PoolVerifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Sampling.Validate();
        return new PoolVerifierSession(this, options);
    }

    internal ulong RegisterVerifier(PoolVerifierSession session)
    {
        ulong id;
        do id = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        while (id == 0 || _sessions.ContainsKey(id) || !_verifiers.TryAdd(id, session));
        return id;
    }

    internal void UnregisterVerifier(ulong id) => _verifiers.TryRemove(id, out _);

    internal bool SendFrame(FrameHeader header, ReadOnlySpan<byte> payload) =>
        _connection is { } connection && connection.Send(header, payload);

    private PoolChainException Lost(string? reason) =>
        new(ChainErrorCode.NodeLost, EntryNodeId, $"the connection to the entry node {(EntryNodeId.Length == 0 ? "" : EntryNodeId + " ")}at {EntryEndpoint} is gone: {reason ?? "closed"}");

    ValueTask IFrameHandler.OnFrameAsync(FrameConnection connection, ParsedFrame frame)
    {
        var header = frame.Header;
        if (header.Type is FrameType.Hello)
            return ValueTask.CompletedTask;
        if (_verifiers.TryGetValue(header.SessionId, out var verifier))
        {
            verifier.OnFrame(header, frame.Payload.IsSingleSegment ? frame.Payload.FirstSpan : frame.Payload.ToArray());
            return ValueTask.CompletedTask;
        }
        if (!_sessions.TryGetValue(header.SessionId, out var events))
            return ValueTask.CompletedTask;
        ReadOnlySpan<byte> payload = frame.Payload.IsSingleSegment ? frame.Payload.FirstSpan : frame.Payload.ToArray();
        try
        {
            switch (header.Type)
            {
                case FrameType.Token:
                    var token = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(payload);
                    events.Writer.TryWrite(new ClientEvent(ClientEventKind.Token, token, Encoding.UTF8.GetString(payload[4..]), null, default));
                    break;
                case FrameType.End:
                    var summary = JsonSerializer.Deserialize(payload, DataPlaneJsonContext.Default.SessionSummary)
                        ?? throw new InvalidDataException("an empty session summary");
                    events.Writer.TryWrite(new ClientEvent(ClientEventKind.End, 0, null, summary, default));
                    break;
                case FrameType.Error:
                    events.Writer.TryWrite(new ClientEvent(ClientEventKind.Error, 0, null, null, ChainErrorPayload.Read(payload)));
                    break;
            }
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or ArgumentOutOfRangeException)
        {
            events.Writer.TryWrite(new ClientEvent(ClientEventKind.Error, 0, null, null,
                new ChainErrorPayload(ChainErrorCode.Malformed, EntryNodeId, $"the entry sent an unreadable {header.Type} frame: {e.Message}")));
        }
        return ValueTask.CompletedTask;
    }

    void IFrameHandler.OnRejected(FrameConnection connection, FrameHeader header, FrameRejection rejection)
    {
        if (_verifiers.TryGetValue(header.SessionId, out var verifier))
        {
            verifier.OnFrame(new FrameHeader(FrameType.Error, header.SessionId, header.Epoch),
                new ChainErrorPayload(ChainErrorCode.Malformed, EntryNodeId, $"a frame from the entry was refused: {rejection}").ToBytes());
            return;
        }
        if (_sessions.TryGetValue(header.SessionId, out var events))
        {
            events.Writer.TryWrite(new ClientEvent(ClientEventKind.Error, 0, null, null,
                new ChainErrorPayload(ChainErrorCode.Malformed, EntryNodeId, $"a frame from the entry was refused: {rejection}")));
        }
    }

    void IFrameHandler.OnClosed(FrameConnection connection, string reason)
    {
        var lost = Lost(reason);
        foreach (var verifier in _verifiers.Values)
            verifier.OnConnectionLost(reason);
        foreach (var events in _sessions.Values)
            events.Writer.TryWrite(new ClientEvent(ClientEventKind.Error, 0, null, null, new ChainErrorPayload(lost.Code, lost.NodeId, lost.Message)));
    }

    private async Task TickAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
                _connection?.Tick();
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_timer is not null)
            await _timer.ConfigureAwait(false);
        if (_connection is not null)
        {
            _connection.CloseGracefully("client done");
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
    }

    private enum ClientEventKind { Token, End, Error }

    private readonly record struct ClientEvent(ClientEventKind Kind, int Token, string? Text, SessionSummary? Summary, ChainErrorPayload Error);
}
