using System.Buffers.Binary;
using System.Text;
using EdgeNode.Drivers.Gpio;
using EdgeNode.Drivers.Linux;

namespace EdgeNode.Drivers.Tests.Simulated;

/// <summary>
/// The kernel side of one GPIO chip's character device. It decodes the ioctl argument bytes at the
/// offsets include/uapi/linux/gpio.h defines (not through the driver's structs), so a layout slip in
/// the driver shows up here as a wrong line, flag or value.
/// </summary>
public sealed class SimulatedGpioKernel : ICharacterDevices
{
    public sealed class Line
    {
        public string Name = "";
        public string Consumer = "";
        public ulong Flags;
        public bool PhysicalHigh;
        public uint DebounceMicroseconds;
        public int? RequestFd;
    }

    private sealed class Request
    {
        public uint[] Offsets = [];
        public Queue<byte[]> Events = new();
        public uint Sequence;
    }

    private readonly string _path;
    private readonly Dictionary<int, Request> _requests = [];
    private int _nextFd = 100;
    private int? _chipFd;

    public SimulatedGpioKernel(string path, string name, string label, int lineCount)
    {
        _path = path;
        ChipName = name;
        ChipLabel = label;
        Lines = [.. Enumerable.Range(0, lineCount).Select(i => new Line { Name = $"GPIO{i}" })];
    }

    public string ChipName { get; }

    public string ChipLabel { get; }

    public IReadOnlyList<Line> Lines { get; }

    public List<uint> IoctlLog { get; } = [];

    public ulong Clock { get; set; } = 1_000_000_000;

    public int OpenDescriptors => (_chipFd is null ? 0 : 1) + _requests.Count;

    public int Open(string path)
    {
        if (path != _path)
            throw new CharacterDeviceException("open", path, Errno.ENOENT);
        _chipFd = _nextFd++;
        return _chipFd.Value;
    }

    public void Close(int fd)
    {
        if (fd == _chipFd)
        {
            _chipFd = null;
            return;
        }
        if (_requests.Remove(fd, out var request))
        {
            foreach (var offset in request.Offsets)
            {
                Lines[(int)offset].RequestFd = null;
                Lines[(int)offset].Consumer = "";
                Lines[(int)offset].Flags = 0;
            }
            return;
        }
        throw new CharacterDeviceException("close", $"fd {fd}", Errno.EINVAL);
    }

    public void Ioctl(int fd, uint request, nint value) => throw new CharacterDeviceException("ioctl", _path, Errno.ENOTTY);

    public void Ioctl(int fd, uint request, Span<byte> argument)
    {
        IoctlLog.Add(request);
        // The size encoded in the request number must match the buffer the driver passes.
        var encodedSize = (int)((request >> 16) & 0x3FFF);
        if (encodedSize != argument.Length)
            throw new CharacterDeviceException("ioctl", _path, Errno.EINVAL);
        if (fd == _chipFd)
            ChipIoctl(request, argument);
        else if (_requests.TryGetValue(fd, out var lines))
            LineIoctl(lines, request, argument);
        else
            throw new CharacterDeviceException("ioctl", $"fd {fd}", Errno.EINVAL);
    }

    private void ChipIoctl(uint request, Span<byte> argument)
    {
        switch (request)
        {
            case 0x8044B401: // GPIO_GET_CHIPINFO_IOCTL
                WriteString(argument[..32], ChipName);
                WriteString(argument[32..64], ChipLabel);
                BinaryPrimitives.WriteUInt32LittleEndian(argument[64..], (uint)Lines.Count);
                break;
            case 0xC100B405: // GPIO_V2_GET_LINEINFO_IOCTL
            {
                var offset = BinaryPrimitives.ReadUInt32LittleEndian(argument[64..]);
                if (offset >= Lines.Count)
                    throw new CharacterDeviceException("ioctl", _path, Errno.EINVAL);
                var line = Lines[(int)offset];
                argument.Clear();
                WriteString(argument[..32], line.Name);
                WriteString(argument[32..64], line.Consumer);
                BinaryPrimitives.WriteUInt32LittleEndian(argument[64..], offset);
                BinaryPrimitives.WriteUInt64LittleEndian(argument[72..], line.Flags | (line.RequestFd is null ? 0 : (ulong)GpioLineFlags.Used));
                break;
            }
            case 0xC250B407: // GPIO_V2_GET_LINE_IOCTL
                GetLine(argument);
                break;
            default:
                throw new CharacterDeviceException("ioctl", _path, Errno.ENOTTY);
        }
    }

    private void GetLine(Span<byte> argument)
    {
        var numLines = BinaryPrimitives.ReadUInt32LittleEndian(argument[560..]);
        if (numLines is 0 or > 64)
            throw new CharacterDeviceException("ioctl", _path, Errno.EINVAL);
        var offsets = new uint[numLines];
        for (var i = 0; i < numLines; i++)
        {
            offsets[i] = BinaryPrimitives.ReadUInt32LittleEndian(argument[(i * 4)..]);
            if (offsets[i] >= Lines.Count)
                throw new CharacterDeviceException("ioctl", _path, Errno.EINVAL);
            if (Lines[(int)offsets[i]].RequestFd is not null)
                throw new CharacterDeviceException("ioctl", _path, Errno.EBUSY);
        }
        var consumer = ReadString(argument[256..288]);
        var config = argument[288..560];
        var fd = _nextFd++;
        _requests[fd] = new Request { Offsets = offsets };
        for (var i = 0; i < offsets.Length; i++)
        {
            var line = Lines[(int)offsets[i]];
            line.RequestFd = fd;
            line.Consumer = consumer;
        }
        ApplyConfig(offsets, config);
        BinaryPrimitives.WriteInt32LittleEndian(argument[588..], fd);
    }

    private void ApplyConfig(uint[] offsets, ReadOnlySpan<byte> config)
    {
        var flags = BinaryPrimitives.ReadUInt64LittleEndian(config);
        var numAttrs = BinaryPrimitives.ReadUInt32LittleEndian(config[8..]);
        if (numAttrs > 10)
            throw new CharacterDeviceException("ioctl", _path, Errno.EINVAL);
        var input = (flags & (ulong)GpioLineFlags.Input) != 0;
        var output = (flags & (ulong)GpioLineFlags.Output) != 0;
        if (input && output)
            throw new CharacterDeviceException("ioctl", _path, Errno.EINVAL);
        for (var i = 0; i < offsets.Length; i++)
            Lines[(int)offsets[i]].Flags = flags;
        for (var a = 0; a < numAttrs; a++)
        {
            var attribute = config.Slice(32 + (a * 24), 24);
            var id = BinaryPrimitives.ReadUInt32LittleEndian(attribute);
            var value = BinaryPrimitives.ReadUInt64LittleEndian(attribute[8..]);
            var mask = BinaryPrimitives.ReadUInt64LittleEndian(attribute[16..]);
            for (var i = 0; i < offsets.Length; i++)
            {
                if ((mask & (1UL << i)) == 0)
                    continue;
                var line = Lines[(int)offsets[i]];
                switch (id)
                {
                    case 1:
                        line.Flags = value;
                        break;
                    case 2:
                        line.PhysicalHigh = (((value >> i) & 1) != 0) ^ ((line.Flags & (ulong)GpioLineFlags.ActiveLow) != 0);
                        break;
                    case 3:
                        line.DebounceMicroseconds = (uint)value;
                        break;
                    default:
                        throw new CharacterDeviceException("ioctl", _path, Errno.EINVAL);
                }
            }
        }
        // Pull-ups hold an undriven input high, as on a real pin with nothing pressing it.
        foreach (var offset in offsets)
        {
            var line = Lines[(int)offset];
            if ((line.Flags & (ulong)GpioLineFlags.Input) != 0 && (line.Flags & (ulong)GpioLineFlags.BiasPullUp) != 0)
                line.PhysicalHigh = true;
        }
    }

    private void LineIoctl(Request request, uint number, Span<byte> argument)
    {
        switch (number)
        {
            case 0xC010B40E: // GPIO_V2_LINE_GET_VALUES_IOCTL
            {
                var mask = BinaryPrimitives.ReadUInt64LittleEndian(argument[8..]);
                ulong bits = 0;
                for (var i = 0; i < request.Offsets.Length; i++)
                {
                    if ((mask & (1UL << i)) != 0 && LogicalValue(Lines[(int)request.Offsets[i]]))
                        bits |= 1UL << i;
                }
                BinaryPrimitives.WriteUInt64LittleEndian(argument, bits);
                break;
            }
            case 0xC010B40F: // GPIO_V2_LINE_SET_VALUES_IOCTL
            {
                var bits = BinaryPrimitives.ReadUInt64LittleEndian(argument);
                var mask = BinaryPrimitives.ReadUInt64LittleEndian(argument[8..]);
                for (var i = 0; i < request.Offsets.Length; i++)
                {
                    if ((mask & (1UL << i)) == 0)
                        continue;
                    var line = Lines[(int)request.Offsets[i]];
                    if ((line.Flags & (ulong)GpioLineFlags.Output) == 0)
                        throw new CharacterDeviceException("ioctl", _path, Errno.EPERM);
                    line.PhysicalHigh = (((bits >> i) & 1) != 0) ^ ((line.Flags & (ulong)GpioLineFlags.ActiveLow) != 0);
                }
                break;
            }
            case 0xC110B40D: // GPIO_V2_LINE_SET_CONFIG_IOCTL
                ApplyConfig(request.Offsets, argument);
                break;
            default:
                throw new CharacterDeviceException("ioctl", _path, Errno.ENOTTY);
        }
    }

    private static bool LogicalValue(Line line) => line.PhysicalHigh ^ ((line.Flags & (ulong)GpioLineFlags.ActiveLow) != 0);

    /// <summary>Drives an input pin from outside (a finger on a button); queues the edge the line asked for.</summary>
    public void DrivePin(uint offset, bool high)
    {
        var line = Lines[(int)offset];
        if (line.PhysicalHigh == high)
            return;
        var wasActive = LogicalValue(line);
        line.PhysicalHigh = high;
        var rising = !wasActive && LogicalValue(line);
        Clock += 1_000_000;
        if (line.RequestFd is not { } fd || !_requests.TryGetValue(fd, out var request))
            return;
        var wanted = rising ? GpioLineFlags.EdgeRising : GpioLineFlags.EdgeFalling;
        if ((line.Flags & (ulong)wanted) == 0)
            return;
        request.Sequence++;
        var raw = new byte[48];
        BinaryPrimitives.WriteUInt64LittleEndian(raw, Clock);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(8), rising ? 1u : 2u);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(12), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(16), request.Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(20), request.Sequence);
        request.Events.Enqueue(raw);
    }

    public void AdvanceClock(TimeSpan by) => Clock += (ulong)(by.Ticks * 100);

    public int Read(int fd, Span<byte> buffer)
    {
        if (!_requests.TryGetValue(fd, out var request))
            throw new CharacterDeviceException("read", $"fd {fd}", Errno.EINVAL);
        if (request.Events.Count == 0)
            throw new CharacterDeviceException("read", $"fd {fd}", Errno.EAGAIN);
        if (buffer.Length < 48)
            throw new CharacterDeviceException("read", $"fd {fd}", Errno.EINVAL);
        request.Events.Dequeue().CopyTo(buffer);
        return 48;
    }

    public int Write(int fd, ReadOnlySpan<byte> buffer) => throw new CharacterDeviceException("write", $"fd {fd}", Errno.EINVAL);

    public bool WaitReadable(int fd, TimeSpan timeout) => _requests.TryGetValue(fd, out var request) && request.Events.Count > 0;

    private static void WriteString(Span<byte> target, string text)
    {
        target.Clear();
        Encoding.UTF8.GetBytes(text, target[..^1]);
    }

    private static string ReadString(ReadOnlySpan<byte> source)
    {
        var end = source.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? source : source[..end]);
    }
}
