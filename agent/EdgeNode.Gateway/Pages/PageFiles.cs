using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Pages;

/// <summary>
/// The dashboard and chat pages: plain HTML, CSS and hand-written JavaScript embedded in the binary, read once at
/// start. They hold no data of the node's, so they are served without a key; everything they show comes from the
/// API, which asks for the key when one is configured (the pages ask the user for it and send it).
/// Both pages share one head (page.html: the document head, the header with its nav, the key form and the shared
/// script); each page's file holds only its main section, and is served inside that head.
/// </summary>
internal static partial class PageFiles
{
    private const string ResourcePrefix = "EdgeNode.Gateway.Pages.";

    // The head every page is served in; a template, not served itself.
    private const string Head = "page.html";

    // Everything comes from this node: no CDN, no inline script, so a page cannot be made to load anyone else's code.
    private const string ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (byte[] Body, string ContentType)> s_files = Load();

    /// <summary>Paths served as pages; the key check skips them.</summary>
    public static bool IsPagePath(PathString path) =>
        path == "/" || path == "/dashboard" || path == "/chat" || path.StartsWithSegments("/pages", StringComparison.Ordinal);

    public static Task DashboardAsync(HttpContext context) => WriteAsync(context, "dashboard.html");

    public static Task ChatAsync(HttpContext context) => WriteAsync(context, "chat.html");

    public static Task AssetAsync(HttpContext context, string name) => WriteAsync(context, name);

    private static Task WriteAsync(HttpContext context, string name)
    {
        if (!s_files.TryGetValue(name, out var file))
            throw Api.ApiError.NotFound(context.Request.Method, context.Request.Path);
        var response = context.Response;
        response.ContentType = file.ContentType;
        response.ContentLength = file.Body.Length;
        response.Headers.CacheControl = "no-cache";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        return response.Body.WriteAsync(file.Body, context.RequestAborted).AsTask();
    }

    private static FrozenDictionary<string, (byte[] Body, string ContentType)> Load()
    {
        var assembly = typeof(PageFiles).Assembly;
        var files = new Dictionary<string, (byte[] Body, string ContentType)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal))
                continue;
            var name = resource[ResourcePrefix.Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name] = (copy.ToArray(), ContentTypeOf(name));
        }
        if (!files.Remove(Head, out var head))
            throw new InvalidOperationException($"the page head {Head} is not embedded in {assembly.GetName().Name}");
        var template = Encoding.UTF8.GetString(head.Body);
        foreach (var name in files.Keys.Where(n => n.EndsWith(".html", StringComparison.Ordinal)).ToList())
        {
            var (main, contentType) = files[name];
            files[name] = (Encoding.UTF8.GetBytes(InHead(template, Path.GetFileNameWithoutExtension(name), Encoding.UTF8.GetString(main))), contentType);
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The page <paramref name="page"/>: its main section in the shared head, titled and marked current in the nav.</summary>
    private static string InHead(string template, string page, string main)
    {
        var html = CurrentMarker().Replace(template.Replace("{page}", page, StringComparison.Ordinal),
            m => m.Groups[1].Value == page ? " aria-current=\"page\"" : "");
        // The main section goes in last, so nothing in it is read as a placeholder.
        return html.Replace("{main}", main.TrimEnd('\n'), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\{current:([a-z]+)\}")]
    private static partial Regex CurrentMarker();

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        var other => throw new InvalidOperationException($"page file {name} has an extension ({other}) the server has no content type for"),
    };
}
