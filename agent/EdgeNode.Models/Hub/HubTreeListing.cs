using System.Text.Json;

namespace EdgeNode.Models.Hub;

/// <summary>
/// Reads the hub's tree listing: a JSON array of {"type":"file"|"directory", "path", "size", "oid",
/// "lfs":{"oid","size"}}, one page at a time (the next page's URL comes in a Link header).
/// </summary>
public static class HubTreeListing
{
    /// <summary>The listing URL of a repository at a revision, every folder included.</summary>
    public static Uri Url(Uri endpoint, string repository, string revision)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return new Uri($"{endpoint.AbsoluteUri.TrimEnd('/')}/api/models/{repository}/tree/{Uri.EscapeDataString(revision)}?recursive=1");
    }

    /// <summary>The files of one page; <paramref name="source"/> (the URL) names the page in errors.</summary>
    public static List<HubTreeEntry> Parse(ReadOnlySpan<byte> json, string source)
    {
        var entries = new List<HubTreeEntry>();
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Array)
                throw new ModelPullException($"the tree listing at {source} is JSON {document.RootElement.ValueKind}, expected an array of files");
            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || String(item, "type") != "file")
                    continue;
                var path = String(item, "path") ?? throw Missing(source, "path", "(unnamed)");
                var oid = String(item, "oid") ?? throw Missing(source, "oid", path);
                var size = Number(item, "size") ?? throw Missing(source, "size", path);
                string? lfsSha256 = null;
                if (item.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                {
                    lfsSha256 = String(lfs, "oid") ?? throw Missing(source, "lfs.oid", path);
                    size = Number(lfs, "size") ?? size;
                }
                entries.Add(new HubTreeEntry(path, size, CheckHex(oid, 40, source, path, "oid"),
                    lfsSha256 is null ? null : CheckHex(lfsSha256, 64, source, path, "lfs.oid")));
            }
        }
        catch (JsonException e)
        {
            throw new ModelPullException($"the tree listing at {source} is not valid JSON ({e.Message})", e);
        }
        return entries;
    }

    /// <summary>The URL a Link header gives for rel="next", or null on the last page.</summary>
    public static Uri? NextPage(IEnumerable<string> linkHeaders, Uri current)
    {
        ArgumentNullException.ThrowIfNull(linkHeaders);
        foreach (var header in linkHeaders)
        {
            foreach (var link in header.Split(','))
            {
                var parts = link.Split(';', StringSplitOptions.TrimEntries);
                if (parts.Length < 2 || !parts[0].StartsWith('<') || !parts[0].EndsWith('>'))
                    continue;
                if (parts.Skip(1).Any(p => p.Replace(" ", "", StringComparison.Ordinal) is "rel=\"next\"" or "rel=next"))
                    return new Uri(current, parts[0][1..^1]);
            }
        }
        return null;
    }

    private static string? String(JsonElement element, string key) =>
        element.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Number(JsonElement element, string key) =>
        element.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;

    private static ModelPullException Missing(string source, string key, string path) =>
        new($"the tree listing at {source} gives no {key} for {path}");

    private static string CheckHex(string value, int length, string source, string path, string key) =>
        value.Length == length && value.All(char.IsAsciiHexDigit)
            ? value.ToLowerInvariant()
            : throw new ModelPullException($"the tree listing at {source} gives {key} '{value}' for {path}, expected {length} hex digits");
}
