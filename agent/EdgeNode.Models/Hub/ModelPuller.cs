using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace EdgeNode.Models.Hub;

/// <summary>
/// Fetches catalog models into a models folder: from the Hugging Face hub
/// ({endpoint}/{repo}/resolve/{revision}/{path}), from pinned URLs, or from a local mirror folder.
/// Every file lands as "name.partial" first, is checked against its sha256 and only then renamed into
/// place, so a file under its final name is always complete and verified; an interrupted download
/// resumes from the partial file with an HTTP Range request.
/// </summary>
public sealed class ModelPuller : IDisposable
{
    private const int BufferSize = 1 << 20;
    private const int MaxRedirects = 10;
    private const string PartialSuffix = ".partial";

    // A connection that delivers nothing for this long is treated as cut (the partial file stays for a resume).
    private static readonly TimeSpan s_stallTimeout = TimeSpan.FromSeconds(60);

    private readonly HubSettings _settings;
    private readonly HttpClient _http;

    /// <param name="settings">Endpoint, token and mirror.</param>
    /// <param name="handler">The HTTP handler; it must not follow redirects itself (the puller needs the hub's
    /// redirect response, which carries the LFS sha256, and must not forward the token to a CDN).</param>
    public ModelPuller(HubSettings settings, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        })
        {
            // Large files take as long as they take; stalls are caught per read instead.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("edgenode/1.0");
    }

    /// <summary>A puller configured from EDGENODE_HF_ENDPOINT, EDGENODE_HF_TOKEN and EDGENODE_MODEL_MIRROR.</summary>
    public static ModelPuller FromEnvironment() => new(HubSettings.FromEnvironment());

    public HubSettings Settings => _settings;

    /// <summary>
    /// For the CLI: pulls the catalog model <paramref name="name"/> with the settings from the environment
    /// (<see cref="HubSettings.FromEnvironment"/>), blocking, and returns the model's folder.
    /// </summary>
    public static string Pull(string name, string modelsDirectory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        using var puller = FromEnvironment();
        return puller.PullAsync(name, modelsDirectory, progress, cancellationToken).GetAwaiter().GetResult().Directory;
    }

    /// <summary>Pulls the catalog model <paramref name="name"/> into <c>&lt;modelsDirectory&gt;/&lt;name&gt;/</c>.</summary>
    public Task<PulledModel> PullAsync(string name, string modelsDirectory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken) =>
        PullAsync(ModelCatalog.Find(name), modelsDirectory, progress, cancellationToken);

    /// <summary>Pulls <paramref name="model"/> (a catalog entry, or one described by the caller).</summary>
    public async Task<PulledModel> PullAsync(CatalogModel model, string modelsDirectory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(modelsDirectory);
        var directory = Path.GetFullPath(Path.Combine(modelsDirectory, model.Name));
        Directory.CreateDirectory(directory);

        var files = new List<PulledFile>(model.Files.Count);
        foreach (var file in model.Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            files.Add(_settings.MirrorDirectory is { } mirror
                ? await CopyFromMirrorAsync(model, file, mirror, directory, progress, cancellationToken).ConfigureAwait(false)
                : await DownloadAsync(model, file, directory, progress, cancellationToken).ConfigureAwait(false));
        }
        return new PulledModel(model.Name, directory, files);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The URL a file is fetched from when no mirror is set.</summary>
    public Uri SourceUrl(CatalogModel model, CatalogFile file)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(file);
        if (file.HubPath is { } hubPath && model.HubRepository is { } repository)
        {
            var endpoint = _settings.Endpoint.AbsoluteUri.TrimEnd('/');
            var path = string.Join('/', hubPath.Split('/').Select(Uri.EscapeDataString));
            return new Uri($"{endpoint}/{repository}/resolve/{Uri.EscapeDataString(model.Revision)}/{path}");
        }
        if (file.DirectUrl is { } direct)
            return direct;
        var reason = model.NotOnHubReason ?? "the catalog gives no source for it";
        throw new ModelPullException(
            $"{model.Name} cannot be downloaded: {reason}. Pull it from a local mirror folder instead: "
            + $"set {HubSettings.MirrorVariable} to a folder holding {file.MirrorPath}");
    }

    private async Task<PulledFile> DownloadAsync(
        CatalogModel model, CatalogFile file, string directory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var url = SourceUrl(model, file);
        var target = Path.Combine(directory, file.FileName);
        var expected = file.Sha256 ?? await HubSha256Async(url, file, cancellationToken).ConfigureAwait(false);

        if (await IsPresentAsync(target, expected, file.FileName, progress, cancellationToken).ConfigureAwait(false) is { } present)
            return present;

        var partial = target + PartialSuffix;
        // A partial file that turns out to be complete-but-wrong (a 416 on resume) is dropped once and fetched again.
        for (var attempt = 0; ; attempt++)
        {
            var existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            using var response = await SendAsync(HttpMethod.Get, url, existing > 0 ? existing : null, followCrossHostRedirects: true, cancellationToken)
                .ConfigureAwait(false);

            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0 && attempt == 0)
            {
                File.Delete(partial);
                continue;
            }
            ThrowUnlessSuccess(response, url, file.FileName);

            long? total;
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                var range = response.Content.Headers.ContentRange;
                if (range?.From != existing)
                {
                    throw new ModelPullException(
                        $"{url} answered a resume from byte {existing} with the range '{range}'; delete {partial} and run pull again");
                }
                total = range.Length;
            }
            else
            {
                // 200: the server ignored the Range header and sends the whole file, so start over.
                existing = 0;
                total = response.Content.Headers.ContentLength;
            }

            var sha256 = await ReceiveAsync(response, partial, existing, total, file.FileName, url, progress, cancellationToken).ConfigureAwait(false);
            return Finish(partial, target, expected, sha256, PulledFileOrigin.Downloaded);
        }
    }

    private async Task<PulledFile> CopyFromMirrorAsync(
        CatalogModel model, CatalogFile file, string mirror, string directory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var source = Path.Combine([mirror, .. file.MirrorPath.Split('/')]);
        if (!File.Exists(source))
        {
            throw new ModelPullException(
                $"{file.FileName} of {model.Name} is not in the mirror: {source} does not exist ({HubSettings.MirrorVariable}={mirror})");
        }
        var target = Path.Combine(directory, file.FileName);
        // Without a pinned hash the mirror's copy is the reference: at least the copy is checked against it.
        var expected = file.Sha256 ?? await Sha256OfFileAsync(source, cancellationToken).ConfigureAwait(false);
        if (await IsPresentAsync(target, expected, file.FileName, progress, cancellationToken).ConfigureAwait(false) is { } present)
            return present;

        var partial = target + PartialSuffix;
        var stopwatch = Stopwatch.StartNew();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        await using (input.ConfigureAwait(false))
        {
            var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
            await using (output.ConfigureAwait(false))
            {
                var total = input.Length;
                var reporter = new ProgressReporter(file.FileName, total, 0, progress);
                var buffer = new byte[BufferSize];
                long done = 0;
                int read;
                while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    done += read;
                    reporter.Report(done, final: false);
                }
                reporter.Report(done, final: true);
            }
        }
        return Finish(partial, target, expected, Convert.ToHexStringLower(hash.GetHashAndReset()), PulledFileOrigin.CopiedFromMirror);
    }

    /// <summary>Streams the body into the partial file, hashing the resumed prefix and the new bytes as one.</summary>
    private static async Task<string> ReceiveAsync(
        HttpResponseMessage response, string partial, long existing, long? total, string fileName, Uri url,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BufferSize];
        var output = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, BufferSize, useAsync: true);
        long done = 0;
        await using (output.ConfigureAwait(false))
        {
            if (existing == 0)
            {
                output.SetLength(0);
            }
            else
            {
                output.SetLength(existing);
                int prefixRead;
                while ((prefixRead = await output.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    hash.AppendData(buffer, 0, prefixRead);
            }
            done = existing;
            var reporter = new ProgressReporter(fileName, total, existing, progress);
            reporter.Report(done, final: false);

            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    while (true)
                    {
                        stall.CancelAfter(s_stallTimeout);
                        var read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                        if (read == 0)
                            break;
                        hash.AppendData(buffer, 0, read);
                        await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        done += read;
                        reporter.Report(done, final: false);
                    }
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException
                || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                var why = e is OperationCanceledException ? $"no data for {s_stallTimeout.TotalSeconds:0} s" : e.Message;
                throw new ModelPullException(
                    $"download of {fileName} stopped at {done} of {Describe(total)} bytes ({why}); "
                    + $"run pull again to resume from {partial}", e);
            }
            reporter.Report(done, final: true);
        }
        if (total is { } expectedLength && done != expectedLength)
        {
            throw new ModelPullException(
                $"download of {fileName} from {url} ended at {done} of {expectedLength} bytes; run pull again to resume from {partial}");
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Moves a verified partial file into place; a hash mismatch deletes it (resuming corrupt bytes would never help).</summary>
    private static PulledFile Finish(string partial, string target, string expected, string actual, PulledFileOrigin origin)
    {
        if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(partial);
            throw new ModelPullException(
                $"sha256 mismatch for {Path.GetFileName(target)}: expected {expected}, got {actual}; "
                + "the download was corrupted — run pull again");
        }
        File.Move(partial, target, overwrite: true);
        return new PulledFile(target, actual, new FileInfo(target).Length, origin);
    }

    private static async Task<PulledFile?> IsPresentAsync(
        string target, string expected, string fileName, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        if (!File.Exists(target))
            return null;
        var actual = await Sha256OfFileAsync(target, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            return null;
        var length = new FileInfo(target).Length;
        progress?.Report(new DownloadProgress(fileName, length, length, 0));
        return new PulledFile(target, actual, length, PulledFileOrigin.AlreadyPresent);
    }

    /// <summary>
    /// The hub's sha256 for an LFS file: a HEAD on the resolve URL answers with a redirect to the CDN that
    /// carries X-Linked-Etag (the LFS object's sha256); ETag is the fallback the hub documents for the same.
    /// </summary>
    private async Task<string> HubSha256Async(Uri url, CatalogFile file, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Head, url, null, followCrossHostRedirects: false, cancellationToken).ConfigureAwait(false);
        if (!IsRedirect(response.StatusCode))
            ThrowUnlessSuccess(response, url, file.FileName);
        var etag = HeaderValue(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag;
        var sha256 = NormalizeEtag(etag);
        if (sha256 is null || sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
        {
            throw new ModelPullException(
                $"the hub gave no sha256 for {file.FileName} at {url} (ETag '{etag}'): it is not an LFS file, "
                + "so its sha256 must be pinned in the model catalog before it can be pulled");
        }
        return sha256.ToLowerInvariant();
    }

    private static string? NormalizeEtag(string? etag)
    {
        if (etag is null)
            return null;
        var value = etag.Trim();
        if (value.StartsWith("W/", StringComparison.OrdinalIgnoreCase))
            value = value[2..];
        return value.Trim('"');
    }

    private static string? HeaderValue(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>
    /// Sends a request and follows redirects by hand: the token goes only to the hub's own host, and a HEAD can stop at
    /// the hub's redirect to another host, whose headers describe the file.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, Uri url, long? rangeFrom, bool followCrossHostRedirects, CancellationToken cancellationToken)
    {
        var current = url;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, current);
            if (_settings.Token is { } token && IsHubHost(current))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (rangeFrom is { } from)
                request.Headers.Range = new RangeHeaderValue(from, null);

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new ModelPullException($"cannot reach {current.GetLeftPart(UriPartial.Authority)}: {e.Message}", e);
            }

            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location)
                return response;
            var next = new Uri(current, location);
            var crossHost = !string.Equals(next.Authority, current.Authority, StringComparison.OrdinalIgnoreCase);
            if (crossHost && !followCrossHostRedirects)
                return response;
            response.Dispose();
            if (hop >= MaxRedirects)
                throw new ModelPullException($"too many redirects fetching {url}");
            current = next;
        }
    }

    private bool IsHubHost(Uri url) =>
        string.Equals(url.Authority, _settings.Endpoint.Authority, StringComparison.OrdinalIgnoreCase);

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static void ThrowUnlessSuccess(HttpResponseMessage response, Uri url, string fileName)
    {
        if (response.IsSuccessStatusCode)
            return;
        var code = (int)response.StatusCode;
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new ModelPullException(
                $"{url} refused access to {fileName} (HTTP {code}); for a gated or private repository set "
                + $"{HubSettings.TokenVariable} to a token that has access"),
            HttpStatusCode.NotFound => new ModelPullException(
                $"{fileName} not found at {url} (HTTP 404); check the repository, revision and file name"),
            _ => new ModelPullException($"{url} answered HTTP {code} {response.ReasonPhrase} for {fileName}"),
        };
    }

    private static async Task<string> Sha256OfFileAsync(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        await using (stream.ConfigureAwait(false))
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    private static string Describe(long? total) => total?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";

    /// <summary>Throttles progress reports to a few per second; the rate counts only this session's bytes.</summary>
    private sealed class ProgressReporter(string fileName, long? total, long resumedFrom, IProgress<DownloadProgress>? progress)
    {
        private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(100);
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _lastReport = -s_interval;

        public void Report(long done, bool final)
        {
            if (progress is null)
                return;
            var now = _clock.Elapsed;
            if (!final && now - _lastReport < s_interval)
                return;
            _lastReport = now;
            var seconds = now.TotalSeconds;
            var rate = seconds > 0 ? (done - resumedFrom) / seconds : 0;
            progress.Report(new DownloadProgress(fileName, done, total, rate));
        }
    }
}
