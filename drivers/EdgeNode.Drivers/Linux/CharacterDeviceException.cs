namespace EdgeNode.Drivers.Linux;

/// <summary>A failed system call on a device node, with the errno the kernel returned.</summary>
public sealed class CharacterDeviceException : IOException
{
    public CharacterDeviceException(string operation, string target, int errno)
        : base($"{operation} on {target} failed: {Errno.Describe(errno)} (errno {errno})")
    {
        Operation = operation;
        Target = target;
        ErrorNumber = errno;
    }

    public string Operation { get; }

    public string Target { get; }

    public int ErrorNumber { get; }
}
