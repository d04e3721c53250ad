namespace EdgeNode.Models.Hub;

/// <summary>The result of a pull: the model's folder and its files.</summary>
public sealed record PulledModel(string Name, string Directory, IReadOnlyList<PulledFile> Files)
{
    /// <summary>Files nothing outside the mirror vouches for (see <see cref="PulledFile.Verified"/>).</summary>
    public IReadOnlyList<PulledFile> Unverified => [.. Files.Where(f => !f.Verified)];
}
