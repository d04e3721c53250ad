using EdgeNode.Drivers.Linux;

namespace EdgeNode.Drivers.Gpio;

/// <summary>Lines granted by GPIO_V2_GET_LINE_IOCTL; the kernel releases them when this closes.</summary>
public sealed unsafe class GpioLineRequest : IGpioLines
{
    private readonly ICharacterDevices _devices;
    private int _fd;

    internal GpioLineRequest(ICharacterDevices devices, int fd, uint[] offsets, GpioLineFlags flags)
    {
        _devices = devices;
        _fd = fd;
        Offsets = offsets;
        Flags = flags;
    }

    public IReadOnlyList<uint> Offsets { get; }

    public GpioLineFlags Flags { get; private set; }

    public ulong GetValues(ulong mask)
    {
        var values = new GpioV2LineValues { Mask = mask };
        _devices.Ioctl(LiveFd(), GpioV2Abi.LineGetValuesIoctl, GpioV2Abi.BytesOf(ref values));
        return values.Bits & mask;
    }

    public void SetValues(ulong bits, ulong mask)
    {
        var values = new GpioV2LineValues { Bits = bits & mask, Mask = mask };
        _devices.Ioctl(LiveFd(), GpioV2Abi.LineSetValuesIoctl, GpioV2Abi.BytesOf(ref values));
    }

    public bool GetValue(int index) => GetValues(1UL << index) != 0;

    public void SetValue(int index, bool active) => SetValues(active ? 1UL << index : 0, 1UL << index);

    /// <summary>Changes direction, bias or edges without releasing the lines.</summary>
    public void Reconfigure(GpioLineFlags flags, ulong outputValues = 0, TimeSpan? debounce = null)
    {
        var config = GpioChip.BuildConfig(flags, Offsets.Count, outputValues, debounce);
        _devices.Ioctl(LiveFd(), GpioV2Abi.LineSetConfigIoctl, GpioV2Abi.BytesOf(ref config));
        Flags = flags;
    }

    public bool TryReadEdge(TimeSpan timeout, out GpioEdgeEvent edge)
    {
        edge = default;
        if ((Flags & (GpioLineFlags.EdgeRising | GpioLineFlags.EdgeFalling)) == 0)
            throw new InvalidOperationException("the lines were requested without edge detection");
        if (!_devices.WaitReadable(LiveFd(), timeout))
            return false;
        var raw = default(GpioV2LineEvent);
        var bytes = GpioV2Abi.BytesOf(ref raw);
        var count = _devices.Read(LiveFd(), bytes);
        if (count != bytes.Length)
            throw new IOException($"a GPIO line event is {bytes.Length} bytes; read returned {count}");
        edge = new GpioEdgeEvent(raw.Offset, raw.Id == GpioV2Abi.EventRisingEdge, raw.TimestampNs, raw.Seqno, raw.LineSeqno);
        return true;
    }

    private int LiveFd() => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(GpioLineRequest));

    public void Dispose()
    {
        if (_fd < 0)
            return;
        _devices.Close(_fd);
        _fd = -1;
    }
}
