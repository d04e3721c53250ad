namespace EdgeNode.Drivers.Linux;

/// <summary>The errno values the drivers react to, with words an operator understands.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENOTTY = 25;
    public const int EREMOTEIO = 121;

    public static string Describe(int errno) => errno switch
    {
        EPERM => "operation not permitted",
        ENOENT => "no such device node",
        EINTR => "interrupted",
        EIO => "input/output error",
        ENXIO => "no such device or address (nothing answered on the bus)",
        EAGAIN => "try again",
        EACCES => "permission denied (is the user in the gpio/i2c group?)",
        EBUSY => "device or line busy (already requested by another consumer)",
        ENODEV => "no such device",
        EINVAL => "invalid argument",
        ENOTTY => "not a device of this kind (ioctl not supported)",
        EREMOTEIO => "remote I/O error (the device did not acknowledge)",
        _ => "system error",
    };
}
