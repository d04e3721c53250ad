namespace EdgeNode.Models.Hub;

/// <summary>A model that <see cref="ModelPuller"/> knows how to fetch.</summary>
/// <param name="Name">The name users type (also the local folder name).</param>
/// <param name="Description">One line for listings.</param>
/// <param name="HubRepository">Hugging Face repository ("owner/name"), or null when the model is not on the hub.</param>
/// <param name="Revision">Branch, tag or commit of <paramref name="HubRepository"/>.</param>
/// <param name="Files">What makes up the model.</param>
/// <param name="NotOnHubReason">Why there is no hub source, for the error a network pull gives.</param>
public sealed record CatalogModel(
    string Name,
    string Description,
    string? HubRepository,
    string Revision,
    IReadOnlyList<CatalogFile> Files,
    string? NotOnHubReason = null);
