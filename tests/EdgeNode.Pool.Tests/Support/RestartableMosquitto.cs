using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Support;

/// <summary>The shared real mosquitto, which a test can kill and bring back on the same port (persistence off: it forgets everything).</summary>
public sealed class RestartableMosquitto : IDisposable
{
    private MosquittoBroker? _broker;

    public RestartableMosquitto()
    {
        _broker = MosquittoBroker.Start();
        Port = _broker.Port;
    }

    public int Port { get; }

    public void Stop()
    {
        _broker?.Dispose();
        _broker = null;
    }

    public void Start() => _broker ??= MosquittoBroker.Start(port: Port);

    public void Dispose() => Stop();
}
