namespace EdgeNode.Drivers.Gpio;

/// <summary>
/// Lines held by one request. Bit i of a value or mask is the i-th requested line; values are
/// logical (active = 1), so an ActiveLow line reads 1 when its pin is low.
/// </summary>
public interface IGpioLines : IDisposable
{
    IReadOnlyList<uint> Offsets { get; }

    ulong GetValues(ulong mask);

    void SetValues(ulong bits, ulong mask);

    /// <summary>Waits up to timeout for an edge on an edge-detecting line.</summary>
    bool TryReadEdge(TimeSpan timeout, out GpioEdgeEvent edge);
}
