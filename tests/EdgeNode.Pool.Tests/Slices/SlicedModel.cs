using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Slices;

/// <summary>
/// The real stories260K converted whole by its owner into embed, layers 0:1, 1:3, 3:5 and head: the folder peers
/// serve from. Tests copy it when they need to damage a copy.
/// </summary>
public sealed class SlicedModel : IDisposable
{
    private readonly TempDirectory _root = TestPaths.NewTempDirectory("sliced-model");

    public SlicedModel()
    {
        Folder = Path.Combine(_root.Path, "stories260K");
        Manifest = ModelConverter.Convert(TestPaths.Model("stories260K", "stories260K.bin"), TestPaths.Model("stories260K", "tok512.bin"), Folder,
            new ConversionOptions { LayerRanges = [(0, 1), (1, 3), (3, 5)], Name = "stories260K" });
    }

    public string Folder { get; }

    public ModelManifest Manifest { get; }

    /// <summary>A copy of the owner's folder, for a peer whose disk a test damages.</summary>
    public string Copy(string label)
    {
        var copy = Path.Combine(_root.Path, label);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Folder))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    public string NewFolder(string label) => Path.Combine(_root.Path, label + "-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose() => _root.Dispose();
}

[CollectionDefinition(Name)]
public sealed class SlicedModelCollection : ICollectionFixture<SlicedModel>
{
    public const string Name = "sliced model";
}
