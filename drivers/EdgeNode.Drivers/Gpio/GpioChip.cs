using EdgeNode.Drivers.Linux;

namespace EdgeNode.Drivers.Gpio;

/// <summary>
/// One GPIO chip opened through its character device (/dev/gpiochipN) and the v2 uAPI.
/// Lines are requested from it; each request owns its own descriptor, so the chip may be
/// disposed while requests stay alive.
/// </summary>
public sealed unsafe class GpioChip : IDisposable
{
    private readonly ICharacterDevices _devices;
    private int _fd;

    private GpioChip(ICharacterDevices devices, string path, int fd, GpioChipInfo info)
    {
        _devices = devices;
        Path = path;
        _fd = fd;
        Info = info;
    }

    public string Path { get; }

    public GpioChipInfo Info { get; }

    /// <summary>Opens a chip; devices defaults to the real kernel.</summary>
    public static GpioChip Open(string path, ICharacterDevices? devices = null)
    {
        devices ??= LinuxCharacterDevices.Instance;
        var fd = devices.Open(path);
        try
        {
            var abi = default(GpioChipInfoAbi);
            devices.Ioctl(fd, GpioV2Abi.GetChipInfoIoctl, GpioV2Abi.BytesOf(ref abi));
            var info = new GpioChipInfo(GpioV2Abi.ReadName(abi.Name), GpioV2Abi.ReadName(abi.Label), abi.Lines);
            return new GpioChip(devices, path, fd, info);
        }
        catch
        {
            devices.Close(fd);
            throw;
        }
    }

    /// <summary>The /dev/gpiochipN nodes present under a device folder, in number order.</summary>
    public static IReadOnlyList<string> FindChips(string deviceFolder = "/dev")
    {
        if (!Directory.Exists(deviceFolder))
            return [];
        return Directory.EnumerateFileSystemEntries(deviceFolder, "gpiochip*")
            .Where(path => int.TryParse(System.IO.Path.GetFileName(path)["gpiochip".Length..], out _))
            .OrderBy(path => int.Parse(System.IO.Path.GetFileName(path)["gpiochip".Length..], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
    }

    public GpioLineInfo GetLineInfo(uint offset)
    {
        var abi = default(GpioV2LineInfo);
        abi.Offset = offset;
        _devices.Ioctl(LiveFd(), GpioV2Abi.GetLineInfoIoctl, GpioV2Abi.BytesOf(ref abi));
        return new GpioLineInfo(abi.Offset, GpioV2Abi.ReadName(abi.Name), GpioV2Abi.ReadName(abi.Consumer), (GpioLineFlags)abi.Flags);
    }

    /// <summary>The offset of the line the board names so (e.g. "GPIO17" on a Raspberry Pi header), or null.</summary>
    public uint? FindLine(string name)
    {
        for (uint offset = 0; offset < Info.LineCount; offset++)
        {
            if (string.Equals(GetLineInfo(offset).Name, name, StringComparison.Ordinal))
                return offset;
        }
        return null;
    }

    public GpioLineRequest RequestLines(GpioLineSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Offsets.Count is 0 or > GpioV2Abi.LinesMax)
            throw new ArgumentException($"a request holds 1 to {GpioV2Abi.LinesMax} lines, not {settings.Offsets.Count}", nameof(settings));
        foreach (var offset in settings.Offsets)
        {
            if (offset >= Info.LineCount)
                throw new ArgumentException($"line {offset} does not exist on {Path} ({Info.LineCount} lines)", nameof(settings));
        }

        var request = default(GpioV2LineRequest);
        for (var i = 0; i < settings.Offsets.Count; i++)
            request.Offsets[i] = settings.Offsets[i];
        GpioV2Abi.WriteName(request.Consumer, settings.Consumer);
        request.NumLines = (uint)settings.Offsets.Count;
        request.EventBufferSize = settings.EventBufferSize;
        request.Config = BuildConfig(settings.Flags, settings.Offsets.Count, settings.OutputValues, settings.Debounce);

        _devices.Ioctl(LiveFd(), GpioV2Abi.GetLineIoctl, GpioV2Abi.BytesOf(ref request));
        if (request.Fd <= 0)
            throw new CharacterDeviceException("GPIO_V2_GET_LINE_IOCTL", Path, Errno.EIO);
        return new GpioLineRequest(_devices, request.Fd, settings.Offsets.ToArray(), settings.Flags);
    }

    /// <summary>
    /// A line configuration: the flags apply to every line; output values and debounce travel as
    /// attributes masked to all requested lines.
    /// </summary>
    internal static GpioV2LineConfig BuildConfig(GpioLineFlags flags, int lineCount, ulong outputValues, TimeSpan? debounce)
    {
        var config = default(GpioV2LineConfig);
        config.Flags = (ulong)flags;
        var allLines = lineCount == 64 ? ulong.MaxValue : (1UL << lineCount) - 1;
        var attributes = 0;
        if ((flags & GpioLineFlags.Output) != 0)
        {
            config.Attrs[attributes++] = new GpioV2LineConfigAttribute
            {
                Attribute = new GpioV2LineAttribute { Id = GpioV2Abi.AttrIdOutputValues, Value = outputValues & allLines },
                Mask = allLines,
            };
        }
        if (debounce is { } period)
        {
            var microseconds = (ulong)Math.Clamp(period.Ticks / TimeSpan.TicksPerMicrosecond, 0, uint.MaxValue);
            config.Attrs[attributes++] = new GpioV2LineConfigAttribute
            {
                Attribute = new GpioV2LineAttribute { Id = GpioV2Abi.AttrIdDebounce, Value = microseconds },
                Mask = allLines,
            };
        }
        config.NumAttrs = (uint)attributes;
        return config;
    }

    private int LiveFd() => _fd >= 0 ? _fd : throw new ObjectDisposedException(Path);

    public void Dispose()
    {
        if (_fd < 0)
            return;
        _devices.Close(_fd);
        _fd = -1;
    }
}
