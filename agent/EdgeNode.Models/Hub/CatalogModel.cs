namespace EdgeNode.Models.Hub;

/// <summary>A model that <see cref="ModelPuller"/> knows how to fetch.</summary>
/// <param name="Name">The name users type (also the local folder name).</param>
/// <param name="Description">One line for listings.</param>
/// <param name="HubRepository">Hugging Face repository ("owner/name"), or null when the model is not on the hub.</param>
/// <param name="Revision">Branch, tag or commit of <paramref name="HubRepository"/>.</param>
/// <param name="Files">What makes up the model.</param>
/// <param name="NotOnHubReason">Why there is no hub source, for the error a network pull gives.</param>
/// <param name="HashesFromListing">Files without a pinned sha256 take their size and hash from the hub's tree listing
/// (LFS sha256 or git blob sha1), or in a mirror from its SHA256SUMS file.</param>
public sealed record CatalogModel(
    string Name,
    string Description,
    string? HubRepository,
    string Revision,
    IReadOnlyList<CatalogFile> Files,
    string? NotOnHubReason = null,
    bool HashesFromListing = false);
