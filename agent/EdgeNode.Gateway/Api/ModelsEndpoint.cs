using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Api;

/// <summary>GET /v1/models: every model this node serves, loaded or not.</summary>
internal static class ModelsEndpoint
{
    public static Task HandleAsync(HttpContext context, ModelCatalog catalog)
    {
        var list = new ModelList
        {
            Data = [.. catalog.Ids.Select(id => new ModelCard { Id = id, Created = CreatedAt(catalog.Get(id).Served.Source) })],
        };
        return context.Response.WriteAsJsonAsync(list, GatewayJsonContext.Default.ModelList, contentType: null, cancellationToken: context.RequestAborted);
    }

    /// <summary>"created": when the model's file or folder last changed, as Unix seconds.</summary>
    private static long CreatedAt(string source)
    {
        var time = File.Exists(source) ? File.GetLastWriteTimeUtc(source) : Directory.Exists(source) ? Directory.GetLastWriteTimeUtc(source) : DateTime.UnixEpoch;
        return new DateTimeOffset(time, TimeSpan.Zero).ToUnixTimeSeconds();
    }
}
