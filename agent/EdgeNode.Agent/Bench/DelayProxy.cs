using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace EdgeNode.Agent.Bench;

/// <summary>
/// A TCP proxy that holds every byte for a fixed one-way delay in each direction, so a loopback or LAN connection
/// behaves like a WAN path of round trip 2 × delay. The kernel here has no netem; rate limits come from tc tbf on the
/// veth the proxy forwards over. Each chunk read is stamped and written once its time is due, so the delay is a
/// propagation delay (a burst is not spread out) and chunks keep their order.
/// </summary>
public sealed class DelayProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<Task> _connections = [];

    public DelayProxy(IPEndPoint upstream, TimeSpan oneWayDelay)
    {
        _upstream = upstream;
        OneWayDelay = oneWayDelay;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public TimeSpan OneWayDelay { get; }

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    public string Url => $"http://{Endpoint.Address}:{Endpoint.Port}";

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_connections)
                _connections.Add(Task.Run(() => ServeAsync(client)));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var upstream = new Socket(_upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(_upstream, _stop.Token).ConfigureAwait(false);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var up = PumpAsync(client, upstream, done.Token);
            var down = PumpAsync(upstream, client, done.Token);
            await Task.WhenAny(up, down).ConfigureAwait(false);
            done.Cancel();
            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary>One direction: read, stamp, queue; a writer sends each chunk when its delay has passed.</summary>
    private async Task PumpAsync(Socket from, Socket to, CancellationToken cancel)
    {
        var queue = Channel.CreateUnbounded<(byte[] Data, int Length, long Due)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var delayTicks = (long)(OneWayDelay.TotalSeconds * Stopwatch.Frequency);
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var (data, length, due) in queue.Reader.ReadAllAsync(cancel).ConfigureAwait(false))
                {
                    var wait = due - Stopwatch.GetTimestamp();
                    if (wait > 0)
                        await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), cancel).ConfigureAwait(false);
                    await to.SendAsync(data.AsMemory(0, length), SocketFlags.None, cancel).ConfigureAwait(false);
                }
                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }, CancellationToken.None);
        try
        {
            while (true)
            {
                var buffer = new byte[64 * 1024];
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, cancel).ConfigureAwait(false);
                if (read == 0)
                    break;
                queue.Writer.TryWrite((buffer, read, Stopwatch.GetTimestamp() + delayTicks));
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        queue.Writer.TryComplete();
        await writer.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting.ConfigureAwait(false);
        Task[] connections;
        lock (_connections)
            connections = [.. _connections];
        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _stop.Dispose();
    }
}
