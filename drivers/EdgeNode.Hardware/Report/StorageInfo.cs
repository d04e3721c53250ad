namespace EdgeNode.Hardware.Report;

/// <summary>Block devices, and the room left on the filesystem that holds the probed root (where models go by default).</summary>
public sealed record StorageInfo(IReadOnlyList<StorageDevice> Devices, long? RootFreeBytes, long? RootTotalBytes);
