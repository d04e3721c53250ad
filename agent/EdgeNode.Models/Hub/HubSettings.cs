namespace EdgeNode.Models.Hub;

/// <summary>Where <see cref="ModelPuller"/> fetches from.</summary>
/// <param name="Endpoint">The hub's base address (files are at {endpoint}/{repo}/resolve/{revision}/{path}).</param>
/// <param name="Token">Sent as "Authorization: Bearer" to the hub (gated or private repositories).</param>
/// <param name="MirrorDirectory">A local folder to copy files from instead of the network.</param>
public sealed record HubSettings(Uri Endpoint, string? Token = null, string? MirrorDirectory = null)
{
    public const string EndpointVariable = "EDGENODE_HF_ENDPOINT";
    public const string TokenVariable = "EDGENODE_HF_TOKEN";
    public const string MirrorVariable = "EDGENODE_MODEL_MIRROR";

    public static readonly Uri DefaultEndpoint = new("https://huggingface.co");

    /// <summary>EDGENODE_HF_ENDPOINT (default https://huggingface.co), EDGENODE_HF_TOKEN, EDGENODE_MODEL_MIRROR.</summary>
    public static HubSettings FromEnvironment()
    {
        var endpointText = Environment.GetEnvironmentVariable(EndpointVariable);
        var endpoint = DefaultEndpoint;
        if (!string.IsNullOrWhiteSpace(endpointText)
            && !Uri.TryCreate(endpointText.Trim(), UriKind.Absolute, out endpoint))
        {
            throw new ModelPullException($"{EndpointVariable}='{endpointText}' is not an absolute URL (e.g. https://huggingface.co)");
        }
        var token = Environment.GetEnvironmentVariable(TokenVariable);
        var mirror = Environment.GetEnvironmentVariable(MirrorVariable);
        return new HubSettings(
            endpoint!,
            string.IsNullOrWhiteSpace(token) ? null : token.Trim(),
            string.IsNullOrWhiteSpace(mirror) ? null : mirror);
    }
}
