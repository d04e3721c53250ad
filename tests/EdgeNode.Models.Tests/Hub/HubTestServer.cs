using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace EdgeNode.Models.Tests.Hub;

/// <summary>
/// A stand-in for the Hugging Face hub on 127.0.0.1: serves {repo}/resolve/{revision}/{path} with Range support and
/// sha256 ETags, optionally the way the hub serves LFS files (a redirect to a CDN on another port, carrying
/// X-Linked-Etag), and lists them as the hub's tree API does (api/models/{repo}/tree/{revision}, paged with a Link
/// header when asked). It can cut a connection midway or flip a byte, and records every request it sees.
/// </summary>
internal sealed class HubTestServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _loop;
    private readonly ConcurrentDictionary<string, ServedFile> _files = new(StringComparer.Ordinal);
    private readonly int _cdnPort;

    public HubTestServer()
    {
        // Two ports: the hub and its "CDN", so the redirect crosses hosts (authority) like the real one.
        for (var attempt = 0; ; attempt++)
        {
            var hubPort = FreePort();
            var cdnPort = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{hubPort}/");
            listener.Prefixes.Add($"http://127.0.0.1:{cdnPort}/");
            try
            {
                listener.Start();
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
                continue;
            }
            _listener = listener;
            Endpoint = new Uri($"http://127.0.0.1:{hubPort}");
            _cdnPort = cdnPort;
            break;
        }
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    public ConcurrentQueue<ServedRequest> Requests { get; } = new();

    /// <summary>The next GET of a file's body longer than this sends this many bytes, then drops the connection.</summary>
    public long? CutNextBodyAfter { get; set; }

    /// <summary>Every body served has the byte at this offset flipped (the ETag still names the true sha256).</summary>
    public long? CorruptByteAt { get; set; }

    /// <summary>When set, <see cref="CorruptByteAt"/> applies only to the file at this repository path.</summary>
    public string? CorruptOnlyPath { get; set; }

    /// <summary>When set, tree listings come in pages of this many entries, linked by a rel="next" Link header.</summary>
    public int? TreePageSize { get; set; }

    /// <summary>Serves <paramref name="content"/> at {repo}/resolve/{revision}/{path}.</summary>
    /// <param name="asLfs">Answer like the hub does for LFS files: redirect to the CDN with X-Linked-Etag.</param>
    /// <param name="advertisedSha256">The sha256 to advertise (default: the true one).</param>
    public void Add(string repository, string revision, string path, byte[] content, bool asLfs = false, string? advertisedSha256 = null)
    {
        var sha256 = advertisedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(content));
        var file = new ServedFile(content, sha256, asLfs, repository, revision, path);
        _files[$"/{repository}/resolve/{revision}/{path}"] = file;
        _files[$"/cdn/{sha256}"] = file;
    }

    /// <summary>The git blob id the hub lists for a file kept in git: sha1("blob {size}\0" + bytes), computed here on its own.</summary>
    public static string GitBlobSha1(byte[] content)
    {
        var header = System.Text.Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
    }

    public void Dispose()
    {
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => Handle(context));
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.Url!.AbsolutePath;
        Requests.Enqueue(new ServedRequest(
            request.HttpMethod, request.Url.Port, path, request.Headers["Range"], request.Headers["Authorization"]));
        try
        {
            if (path.StartsWith("/api/models/", StringComparison.Ordinal))
            {
                ServeTree(request, response, path);
                return;
            }
            if (!_files.TryGetValue(path, out var file))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }
            var onCdn = path.StartsWith("/cdn/", StringComparison.Ordinal);
            if (file.AsLfs && !onCdn)
            {
                response.StatusCode = 302;
                response.RedirectLocation = $"http://127.0.0.1:{_cdnPort}/cdn/{file.Sha256}";
                response.Headers["X-Linked-Etag"] = $"\"{file.Sha256}\"";
                response.Headers["X-Linked-Size"] = file.Content.Length.ToString(CultureInfo.InvariantCulture);
                response.Headers["ETag"] = $"\"{file.Sha256}\"";
                response.Close();
                return;
            }
            // A CDN's ETag is its own business (an MD5 or similar), never the sha256: the puller must not rely on it.
            response.Headers["ETag"] = onCdn ? "\"0123456789abcdef0123456789abcdef\"" : $"\"{file.Sha256}\"";
            response.Headers["Accept-Ranges"] = "bytes";
            Serve(request, response, file);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away; nothing to serve.
        }
    }

    /// <summary>
    /// GET /api/models/{owner}/{name}/tree/{revision}: every file added for that repository and revision, the folders
    /// they sit in, LFS files with their sha256 under "lfs" and a pointer's blob id, files in git with their blob id.
    /// </summary>
    private void ServeTree(HttpListenerRequest request, HttpListenerResponse response, string path)
    {
        var parts = path["/api/models/".Length..].Split('/');
        if (parts.Length != 4 || parts[2] != "tree")
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }
        var repository = $"{parts[0]}/{parts[1]}";
        var revision = Uri.UnescapeDataString(parts[3]);
        var files = _files.Where(f => !f.Key.StartsWith("/cdn/", StringComparison.Ordinal)).Select(f => f.Value)
            .Where(f => f.Repository == repository && f.Revision == revision).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }
        var entries = new List<string>();
        foreach (var folder in files.Select(f => f.Path).Where(p => p.Contains('/')).Select(p => p[..p.LastIndexOf('/')]).Distinct())
            entries.Add($$"""{"type":"directory","oid":"{{new string('d', 40)}}","size":0,"path":"{{folder}}"}""");
        foreach (var f in files)
        {
            if (f.AsLfs)
            {
                var pointer = System.Text.Encoding.ASCII.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{f.Sha256}\nsize {f.Content.Length}\n");
                entries.Add($$$"""{"type":"file","oid":"{{{GitBlobSha1(pointer)}}}","size":{{{f.Content.Length}}},"path":"{{{f.Path}}}","lfs":{"oid":"{{{f.Sha256}}}","size":{{{f.Content.Length}}},"pointerSize":{{{pointer.Length}}}}}""");
            }
            else
            {
                entries.Add($$"""{"type":"file","oid":"{{GitBlobSha1(f.Content)}}","size":{{f.Content.Length}},"path":"{{f.Path}}"}""");
            }
        }
        var start = int.TryParse(request.QueryString["cursor"], CultureInfo.InvariantCulture, out var cursor) ? cursor : 0;
        var count = TreePageSize is { } pageSize ? Math.Min(pageSize, entries.Count - start) : entries.Count - start;
        if (start + count < entries.Count)
            response.Headers["Link"] = $"<{path}?recursive=1&cursor={start + count}>; rel=\"next\"";
        var body = System.Text.Encoding.UTF8.GetBytes("[" + string.Join(',', entries.Skip(start).Take(count)) + "]");
        response.ContentType = "application/json";
        response.ContentLength64 = body.Length;
        response.OutputStream.Write(body);
        response.Close();
    }

    private void Serve(HttpListenerRequest request, HttpListenerResponse response, ServedFile file)
    {
        var content = file.Content;
        long from = 0;
        var range = request.Headers["Range"];
        if (range is not null)
        {
            // Only the "bytes=N-" form the puller sends.
            var text = range.Replace("bytes=", "", StringComparison.Ordinal).TrimEnd('-');
            from = long.Parse(text, CultureInfo.InvariantCulture);
            if (from >= content.Length)
            {
                response.StatusCode = 416;
                response.Headers["Content-Range"] = $"bytes */{content.Length}";
                response.Close();
                return;
            }
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {from}-{content.Length - 1}/{content.Length}";
        }
        var length = content.Length - from;
        response.ContentLength64 = length;
        if (request.HttpMethod == "HEAD")
        {
            response.Close();
            return;
        }

        var body = content.AsSpan((int)from).ToArray();
        if (CorruptByteAt is { } corrupt && corrupt >= from && (CorruptOnlyPath is null || CorruptOnlyPath == file.Path))
            body[corrupt - from] ^= 0x5A;
        // Bodies no longer than the cut go through whole and leave the cut for the next one.
        if (CutNextBodyAfter is { } sendOnly && sendOnly < length)
        {
            CutNextBodyAfter = null;
            response.OutputStream.Write(body, 0, (int)sendOnly);
            response.OutputStream.Flush();
            response.Abort();
            return;
        }
        response.OutputStream.Write(body);
        response.Close();
    }

    private sealed record ServedFile(byte[] Content, string Sha256, bool AsLfs, string Repository, string Revision, string Path);
}

/// <summary>One request the test server saw.</summary>
internal sealed record ServedRequest(string Method, int Port, string Path, string? Range, string? Authorization);
