namespace EdgeNode.Hardware.Report;

/// <summary>
/// What the machine is. Source says where the model came from: "device-tree", "android",
/// "dmi" or "cpuinfo".
/// </summary>
public sealed record BoardInfo(
    string Model,
    BoardPlatform Platform,
    string Source,
    string? Soc,
    IReadOnlyList<string> Compatible,
    string Architecture,
    string? Kernel);
