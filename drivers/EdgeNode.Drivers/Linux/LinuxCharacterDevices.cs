using System.Runtime.InteropServices;

namespace EdgeNode.Drivers.Linux;

/// <summary>The real kernel: each call is one libc system call, retried on EINTR.</summary>
public sealed unsafe class LinuxCharacterDevices : ICharacterDevices
{
    public static LinuxCharacterDevices Instance { get; } = new();

    private readonly Dictionary<int, string> _paths = [];
    private readonly Lock _pathsLock = new();

    public int Open(string path)
    {
        int fd;
        do
        {
            fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (fd < 0)
            throw new CharacterDeviceException("open", path, Marshal.GetLastPInvokeError());
        lock (_pathsLock)
            _paths[fd] = path;
        return fd;
    }

    public void Close(int fd)
    {
        lock (_pathsLock)
            _paths.Remove(fd);
        // close is not retried on EINTR: on Linux the descriptor is released either way.
        _ = Libc.Close(fd);
    }

    public void Ioctl(int fd, uint request, Span<byte> argument)
    {
        fixed (byte* pointer = argument)
        {
            int result;
            do
            {
                result = Libc.Ioctl(fd, request, pointer);
            }
            while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
            if (result < 0)
                throw new CharacterDeviceException($"ioctl 0x{request:x8}", PathOf(fd), Marshal.GetLastPInvokeError());
        }
    }

    public void Ioctl(int fd, uint request, nint value)
    {
        int result;
        do
        {
            result = Libc.Ioctl(fd, request, value);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (result < 0)
            throw new CharacterDeviceException($"ioctl 0x{request:x8}", PathOf(fd), Marshal.GetLastPInvokeError());
    }

    public int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            nint count;
            do
            {
                count = Libc.Read(fd, pointer, (nuint)buffer.Length);
            }
            while (count < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
            if (count < 0)
                throw new CharacterDeviceException("read", PathOf(fd), Marshal.GetLastPInvokeError());
            return (int)count;
        }
    }

    public int Write(int fd, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            nint count;
            do
            {
                count = Libc.Write(fd, pointer, (nuint)buffer.Length);
            }
            while (count < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
            if (count < 0)
                throw new CharacterDeviceException("write", PathOf(fd), Marshal.GetLastPInvokeError());
            return (int)count;
        }
    }

    public bool WaitReadable(int fd, TimeSpan timeout)
    {
        var poll = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
        var milliseconds = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        int ready;
        do
        {
            ready = Libc.Poll(&poll, 1, milliseconds);
        }
        while (ready < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (ready < 0)
            throw new CharacterDeviceException("poll", PathOf(fd), Marshal.GetLastPInvokeError());
        return ready > 0 && (poll.ReturnedEvents & Libc.POLLIN) != 0;
    }

    private string PathOf(int fd)
    {
        lock (_pathsLock)
            return _paths.TryGetValue(fd, out var path) ? path : $"fd {fd}";
    }
}
