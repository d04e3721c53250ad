namespace EdgeNode.Hardware.Report;

/// <summary>A block device: Kind is nvme, emmc, sd-card, ssd, hdd, usb or virtual.</summary>
public sealed record StorageDevice(string Name, string Kind, long SizeBytes, bool Removable, string? Model);
