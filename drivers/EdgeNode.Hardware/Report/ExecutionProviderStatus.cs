namespace EdgeNode.Hardware.Report;

/// <summary>
/// An ONNX Runtime execution provider as the agent found it: Listed by the runtime, and Runs when a
/// smoke model actually executed on it. The probe leaves the list empty; the agent fills it.
/// </summary>
public sealed record ExecutionProviderStatus(string Name, bool Listed, bool Runs, string? Detail);
