using EdgeNode.Pool.Broker;
using System.Net;

namespace EdgeNode.Pool.Tests.Support;

/// <summary>A broker a membership test can kill and bring back on the same port: mosquitto or the embedded one.</summary>
public interface ITestBroker : IAsyncDisposable
{
    int Port { get; }

    Task StopAsync();

    Task StartAsync();
}

public sealed class MosquittoTestBroker : ITestBroker
{
    private readonly RestartableMosquitto _broker = new();

    public int Port => _broker.Port;

    public Task StopAsync()
    {
        _broker.Stop();
        return Task.CompletedTask;
    }

    public Task StartAsync()
    {
        _broker.Start();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _broker.Dispose();
        return ValueTask.CompletedTask;
    }
}

public sealed class EmbeddedTestBroker : ITestBroker
{
    private EmbeddedBroker? _broker;

    private EmbeddedTestBroker(int port) => Port = port;

    public int Port { get; }

    public static async Task<EmbeddedTestBroker> CreateAsync()
    {
        var b = new EmbeddedTestBroker(EdgeNode.TestSupport.MosquittoBroker.FreePort());
        await b.StartAsync();
        return b;
    }

    public async Task StartAsync() =>
        _broker = await EmbeddedBroker.StartAsync(new EmbeddedBrokerOptions { Port = Port, BindAddress = IPAddress.Loopback });

    public async Task StopAsync()
    {
        if (_broker is not null)
            await _broker.DisposeAsync();
        _broker = null;
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
