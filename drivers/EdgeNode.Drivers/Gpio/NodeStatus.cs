namespace EdgeNode.Drivers.Gpio;

/// <summary>What the node is doing, as the status LED shows it.</summary>
public enum NodeStatus
{
    Off,
    Joining,
    Serving,
    Draining,
    Error,
}
