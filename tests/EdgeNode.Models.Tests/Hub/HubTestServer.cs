using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace EdgeNode.Models.Tests.Hub;

/// <summary>
/// A stand-in for the Hugging Face hub on 127.0.0.1: serves {repo}/resolve/{revision}/{path} with Range support and
/// sha256 ETags, optionally the way the hub serves LFS files (a redirect to a CDN on another port, carrying
/// X-Linked-Etag). It can cut a connection midway or flip a byte, and records every request it sees.
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

    /// <summary>The next GET of a file's body sends this many bytes, then drops the connection.</summary>
    public long? CutNextBodyAfter { get; set; }

    /// <summary>Every body served has the byte at this offset flipped (the ETag still names the true sha256).</summary>
    public long? CorruptByteAt { get; set; }

    /// <summary>Serves <paramref name="content"/> at {repo}/resolve/{revision}/{path}.</summary>
    /// <param name="asLfs">Answer like the hub does for LFS files: redirect to the CDN with X-Linked-Etag.</param>
    /// <param name="advertisedSha256">The sha256 to advertise (default: the true one).</param>
    public void Add(string repository, string revision, string path, byte[] content, bool asLfs = false, string? advertisedSha256 = null)
    {
        var sha256 = advertisedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(content));
        var file = new ServedFile(content, sha256, asLfs);
        _files[$"/{repository}/resolve/{revision}/{path}"] = file;
        _files[$"/cdn/{sha256}"] = file;
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
            Serve(request, response, file.Content);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away; nothing to serve.
        }
    }

    private void Serve(HttpListenerRequest request, HttpListenerResponse response, byte[] content)
    {
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
        if (CorruptByteAt is { } corrupt && corrupt >= from)
            body[corrupt - from] ^= 0x5A;
        var cut = CutNextBodyAfter;
        CutNextBodyAfter = null;
        if (cut is { } sendOnly && sendOnly < length)
        {
            response.OutputStream.Write(body, 0, (int)sendOnly);
            response.OutputStream.Flush();
            response.Abort();
            return;
        }
        response.OutputStream.Write(body);
        response.Close();
    }

    private sealed record ServedFile(byte[] Content, string Sha256, bool AsLfs);
}

/// <summary>One request the test server saw.</summary>
internal sealed record ServedRequest(string Method, int Port, string Path, string? Range, string? Authorization);
