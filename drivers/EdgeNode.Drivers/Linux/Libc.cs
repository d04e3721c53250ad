using System.Runtime.InteropServices;

namespace EdgeNode.Drivers.Linux;

/// <summary>The libc entry points behind <see cref="LinuxCharacterDevices"/>.</summary>
internal static unsafe partial class Libc
{
    public const int O_RDWR = 0x2;
    public const int O_CLOEXEC = 0x80000;
    public const short POLLIN = 0x1;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    // ioctl is variadic in C; on the Linux ABIs EdgeNode targets (x86-64, AArch64 LP64) a third
    // pointer-sized argument is passed exactly like a fixed one.
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, nint value);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);
}
