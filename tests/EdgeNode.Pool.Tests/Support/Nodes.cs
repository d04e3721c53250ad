using EdgeNode.Pool.Membership;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeNode.Pool.Tests.Support;

/// <summary>States and options the pool tests build nodes from.</summary>
public static class Nodes
{
    public const string Sha = "5f1c0a6b3f0e4d2a9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d";

    /// <summary>A stories260K-like model: 5 layers of 1 000 bytes, embedding 500, head 500 (sizes chosen for easy sums).</summary>
    public static ServableModel Model(string name = "stories260K", int layers = 5, long perLayer = 1000, double? ms = null, string sha = Sha) => new()
    {
        Name = name, Layers = layers, Dim = 64, BytesPerLayer = perLayer, EmbedBytes = 500, HeadBytes = 500, TokenizerBytes = 100, Sha256 = sha, Local = true, MsPerLayer = ms,
    };

    public static NodeState State(string id, long memory, NodeStatus status = NodeStatus.Serving, params ServableModel[] models) => new()
    {
        NodeId = id,
        AgentVersion = "0.1.0",
        DataEndpoint = $"127.0.0.1:{7000 + Math.Abs(id.GetHashCode(StringComparison.Ordinal) % 1000)}",
        Status = status,
        WeightsMaxBytes = memory,
        WeightsFreeBytes = memory,
        KvBudgetBytes = 1 << 20,
        Threads = 1,
        Models = models.Length == 0 ? [Model()] : models,
    };

    /// <summary>Fast timings so expiry and reconnect tests finish in seconds.</summary>
    public static MembershipOptions Options(string pool, int port, TimeSpan? heartbeat = null) => new()
    {
        Pool = pool,
        Broker = new BrokerAddress("127.0.0.1", port),
        HeartbeatInterval = heartbeat ?? TimeSpan.FromMilliseconds(300),
        HeartbeatMissLimit = 3,
        KeepAlive = TimeSpan.FromSeconds(2),
        ReconnectMin = TimeSpan.FromMilliseconds(100),
        ReconnectMax = TimeSpan.FromSeconds(1),
        ConnectTimeout = TimeSpan.FromSeconds(10),   // generous: the suite shares 2 cores with parallel builds
    };

    /// <summary>A plain MQTT client that publishes whatever a test wants, the way a buggy or hostile node would.</summary>
    public static async Task<IMqttClient> RawClientAsync(int port)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId("raw-" + Guid.NewGuid().ToString("N")[..8]).Build());
        return client;
    }

    public static Task PublishRetainedAsync(this IMqttClient client, string topic, byte[] payload) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public static string UniquePool() => "p" + Guid.NewGuid().ToString("N")[..10];

    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
}
