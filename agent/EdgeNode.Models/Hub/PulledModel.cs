namespace EdgeNode.Models.Hub;

/// <summary>The result of a pull: the model's folder and its verified files.</summary>
public sealed record PulledModel(string Name, string Directory, IReadOnlyList<PulledFile> Files);
