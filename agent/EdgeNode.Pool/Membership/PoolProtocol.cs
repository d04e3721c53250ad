namespace EdgeNode.Pool.Membership;

/// <summary>The control plane's fixed names and defaults (docs/pool-protocol.md is their specification).</summary>
public static class PoolProtocol
{
    /// <summary>The payload version this build speaks. A payload with another version is ignored with a logged reason.</summary>
    public const int Version = 1;

    /// <summary>The topic tree's root; "v1" changes only when the topic layout itself changes.</summary>
    public const string TopicRoot = "edgenode/v1";

    /// <summary>How often a node republishes its retained state.</summary>
    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromSeconds(2);

    /// <summary>Heartbeats an observer lets pass before treating the node as gone (2 s × 3 = 6 s by default).</summary>
    public const int DefaultHeartbeatMissLimit = 3;

    /// <summary>MQTT keep-alive: the broker publishes a silent client's last will after 1.5× this.</summary>
    public static readonly TimeSpan DefaultKeepAlive = TimeSpan.FromSeconds(4);

    /// <summary>Reconnect backoff: first wait, doubled per failure up to the maximum.</summary>
    public static readonly TimeSpan DefaultReconnectMin = TimeSpan.FromMilliseconds(250);

    public static readonly TimeSpan DefaultReconnectMax = TimeSpan.FromSeconds(10);

    /// <summary>The standard MQTT port; the embedded broker's default too.</summary>
    public const int DefaultBrokerPort = 1883;

    public static string NodeStateTopic(string pool, string nodeId) => $"{TopicRoot}/{pool}/node/{nodeId}/state";

    public static string NodeStateFilter(string pool) => $"{TopicRoot}/{pool}/node/+/state";

    public static string PlanTopic(string pool, string model) => $"{TopicRoot}/{pool}/plan/{model}";

    public static string PlanFilter(string pool) => $"{TopicRoot}/{pool}/plan/+";

    /// <summary>
    /// Pool names, node ids and model names become MQTT topic levels and DNS labels: letters, digits, '-', '_' and
    /// '.', 1..63 characters, so no name can reach into another's topics (+, #, /) or break an mDNS record.
    /// </summary>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 63)
            return false;
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                return false;
        }
        return true;
    }

    public static void RequireValidName(string? name, string what)
    {
        if (!IsValidName(name))
            throw new ArgumentException($"{what} '{name}' is not a valid name: use 1 to 63 letters, digits, '-', '_' or '.'");
    }
}
