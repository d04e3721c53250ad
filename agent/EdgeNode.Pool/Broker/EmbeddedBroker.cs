using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeNode.Pool.Broker;

/// <summary>
/// An MQTT 5 broker inside the node process (MQTTnet.Server), so two boards need nothing else to form a pool.
/// Retained messages and last wills are the broker's own; they live in memory, which is enough because every node
/// republishes its state each heartbeat and the leader republishes plans when it finds none.
/// </summary>
public sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly MqttServer _server;

    private EmbeddedBroker(MqttServer server, EmbeddedBrokerOptions options)
    {
        _server = server;
        Options = options;
    }

    public EmbeddedBrokerOptions Options { get; }

    public int Port => Options.Port;

    /// <summary>Starts listening; throws IOException naming the port when it is taken.</summary>
    public static async Task<EmbeddedBroker> StartAsync(EmbeddedBrokerOptions options, CancellationToken cancellationToken = default)
    {
        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointPort(options.Port)
            .WithDefaultEndpointBoundIPAddress(options.BindAddress)
            .Build();
        var server = new MqttServerFactory().CreateMqttServer(serverOptions);
        if (options.UserName is not null)
        {
            server.ValidatingConnectionAsync += e =>
            {
                // Fixed-time comparison: the password check should not leak how much of a guess was right.
                var userOk = string.Equals(e.UserName, options.UserName, StringComparison.Ordinal);
                var passOk = System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.UTF8.GetBytes(e.Password ?? ""), System.Text.Encoding.UTF8.GetBytes(options.Password ?? ""));
                if (!(userOk && passOk))
                    e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
                return Task.CompletedTask;
            };
        }
        try
        {
            await server.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            server.Dispose();
            throw new IOException($"the embedded broker cannot listen on {options.BindAddress}:{options.Port} ({e.Message}); "
                                  + "another broker may hold the port: give --broker mqtt://HOST:PORT to use it, or choose another port", e);
        }
        return new EmbeddedBroker(server, options);
    }

    /// <summary>Clients connected right now.</summary>
    public async Task<int> ClientCountAsync() => (await _server.GetClientsAsync().ConfigureAwait(false)).Count;

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }
}
