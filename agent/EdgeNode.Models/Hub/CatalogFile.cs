namespace EdgeNode.Models.Hub;

/// <summary>One file of a catalog model: where it comes from and what it must hash to.</summary>
/// <param name="FileName">Name inside the model's local folder.</param>
/// <param name="HubPath">Path inside the model's hub repository, or null when the file is not on the hub.</param>
/// <param name="DirectUrl">A pinned URL outside the hub (used when <paramref name="HubPath"/> is null).</param>
/// <param name="Sha256">Expected sha256 in lowercase hex; null means "ask the hub" (its LFS sha256).</param>
/// <param name="MirrorPath">Path under a local mirror folder (EDGENODE_MODEL_MIRROR), '/'-separated.</param>
public sealed record CatalogFile(string FileName, string? HubPath, Uri? DirectUrl, string? Sha256, string MirrorPath);
