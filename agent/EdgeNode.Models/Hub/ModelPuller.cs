using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace EdgeNode.Models.Hub;

/// <summary>
/// Fetches catalog models into a models folder: from the Hugging Face hub
/// ({endpoint}/{repo}/resolve/{revision}/{path}), from pinned URLs, or from a local mirror folder.
/// Every file lands as "name.partial" first, is checked against its sha256 and only then renamed into
/// place, so a file under its final name is always complete; an interrupted download resumes from the
/// partial file with an HTTP Range request. A file is verified when the hash comes from outside the
/// mirror (pinned in the catalog or a recipe, or the hub's); a mirror's copy of a file with no pinned
/// hash is checked only against the mirror's own SHA256SUMS (or itself), and is reported unverified.
/// </summary>
public sealed class ModelPuller : IDisposable
{
    private const int BufferSize = 1 << 20;
    private const int MaxRedirects = 10;
    private const string PartialSuffix = ".partial";
    private const int MaxListingPages = 1000;

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
    /// (<see cref="HubSettings.FromEnvironment"/>), blocking.
    /// </summary>
    public static PulledModel Pull(string name, string modelsDirectory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        using var puller = FromEnvironment();
        return puller.PullAsync(name, modelsDirectory, progress, cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>Pulls the catalog model <paramref name="name"/> into <c>&lt;modelsDirectory&gt;/&lt;name&gt;/</c>.</summary>
    public Task<PulledModel> PullAsync(string name, string modelsDirectory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken) =>
        PullAsync(ModelCatalog.Find(name), modelsDirectory, progress, cancellationToken);

    /// <summary>Pulls a recipe's hub files into <c>&lt;modelsDirectory&gt;/&lt;recipe name&gt;/</c>.</summary>
    public Task<PulledModel> PullAsync(Recipes.ModelRecipe recipe, string modelsDirectory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken) =>
        PullAsync(ModelCatalog.FromRecipe(recipe), modelsDirectory, progress, cancellationToken);

    /// <summary>Pulls <paramref name="model"/> (a catalog entry, or one described by the caller).</summary>
    public async Task<PulledModel> PullAsync(CatalogModel model, string modelsDirectory, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(modelsDirectory);
        var directory = Path.GetFullPath(Path.Combine(modelsDirectory, model.Name));
        Directory.CreateDirectory(directory);

        var toFetch = model.HashesFromListing ? await ResolveDigestsAsync(model, cancellationToken).ConfigureAwait(false) : model.Files;
        var files = new List<PulledFile>(toFetch.Count);
        // A corrupt file does not stop the others: every good file lands, so a second pull fetches only the bad ones.
        var mismatches = new List<FileHashMismatchException>();
        foreach (var file in toFetch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                files.Add(_settings.MirrorDirectory is { } mirror
                    ? await CopyFromMirrorAsync(model, file, mirror, directory, progress, cancellationToken).ConfigureAwait(false)
                    : await DownloadAsync(model, file, directory, progress, cancellationToken).ConfigureAwait(false));
            }
            catch (FileHashMismatchException e)
            {
                mismatches.Add(e);
            }
        }
        if (mismatches.Count == 1)
            throw mismatches[0];
        if (mismatches.Count > 1)
            throw new ModelPullException(string.Join(Environment.NewLine, mismatches.Select(e => e.Message)));
        return new PulledModel(model.Name, directory, files);
    }

    /// <summary>
    /// The hub's listing of <paramref name="repository"/> at <paramref name="revision"/>, every page of it: sizes, git
    /// blob ids and LFS sha256s of all files.
    /// </summary>
    public async Task<IReadOnlyList<HubTreeEntry>> ListAsync(string repository, string revision, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(repository);
        var entries = new List<HubTreeEntry>();
        Uri? url = HubTreeListing.Url(_settings.Endpoint, repository, revision);
        for (var page = 0; url is not null; page++)
        {
            if (page >= MaxListingPages)
                throw new ModelPullException($"the file listing of {repository} at {revision} did not end after {MaxListingPages} pages");
            using var response = await SendAsync(HttpMethod.Get, url, null, followCrossHostRedirects: false, cancellationToken).ConfigureAwait(false);
            ThrowUnlessSuccess(response, url, $"the file listing of {repository} at {revision}");
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            entries.AddRange(HubTreeListing.Parse(body, url.AbsoluteUri));
            url = response.Headers.TryGetValues("Link", out var links) ? HubTreeListing.NextPage(links, url) : null;
        }
        return entries;
    }

    /// <summary>
    /// Gives every file without a pinned sha256 its size and hash: in a mirror from its SHA256SUMS first (no network
    /// needed), otherwise from the hub's tree listing (LFS files by sha256, files kept in git by blob sha1).
    /// </summary>
    private async Task<IReadOnlyList<CatalogFile>> ResolveDigestsAsync(CatalogModel model, CancellationToken cancellationToken)
    {
        var files = model.Files.ToList();
        string? sumsPath = null;
        if (_settings.MirrorDirectory is { } mirror)
        {
            sumsPath = Path.Combine(mirror, model.Name, Sha256Sums.FileName);
            if (File.Exists(sumsPath))
            {
                var sums = Sha256Sums.Read(sumsPath);
                for (var i = 0; i < files.Count; i++)
                {
                    // The mirror vouching for itself: enough to pull offline, not to call the file verified.
                    if (files[i].Sha256 is null && sums.TryGetValue(files[i].FileName, out var sha256))
                        files[i] = files[i] with { Sha256 = sha256, DigestSource = DigestSource.Mirror };
                }
            }
        }
        var unresolved = files.Where(f => f.Digest is null).ToList();
        if (unresolved.Count == 0)
            return files;
        if (model.HubRepository is not { } repository)
            throw new ModelPullException($"{model.Name} gives no hash for {unresolved[0].FileName} and has no hub repository to ask");

        IReadOnlyList<HubTreeEntry> listing;
        try
        {
            listing = await ListAsync(repository, model.Revision, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelPullException e) when (sumsPath is not null)
        {
            throw new ModelPullException(
                $"no hash to check the mirror's {unresolved[0].FileName} against: {sumsPath} does not list it and the hub's listing "
                + $"could not be read ({e.Message}); add '<sha256>  {unresolved[0].FileName}' lines to {sumsPath} (sha256sum writes them) "
                + "or make the hub reachable", e);
        }
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            var entry = listing.FirstOrDefault(e => string.Equals(e.Path, file.HubPath, StringComparison.Ordinal));
            if (entry is null)
            {
                if (file.Digest is not null)
                    continue;
                throw new ModelPullException(
                    $"{file.HubPath} is not in {repository} at {model.Revision} according to the hub's listing ({listing.Count} files); "
                    + "check the file list of the recipe");
            }
            // The hub's hash replaces one the mirror gave for itself; a pinned one stays.
            files[i] = file.Sha256 is not null && file.DigestSource == DigestSource.Pinned
                ? file with { Size = entry.Size }
                : file with
                {
                    Sha256 = entry.LfsSha256, GitBlobSha1 = entry.LfsSha256 is null ? entry.BlobSha1 : null, Size = entry.Size,
                    DigestSource = DigestSource.Hub,
                };
        }
        return files;
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
        var expected = file.Digest
            ?? new FileDigest(DigestAlgorithm.Sha256, await HubSha256Async(url, file, cancellationToken).ConfigureAwait(false), null) { Source = DigestSource.Hub };

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

            var hashes = await ReceiveAsync(response, partial, existing, total, file.FileName, url, expected, progress, cancellationToken).ConfigureAwait(false);
            return Finish(partial, target, expected, hashes, PulledFileOrigin.Downloaded, "the download was corrupted — run pull again");
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
        // Without any hash (a catalog file with none pinned) the mirror's copy is the reference: the copy is checked
        // against it, which shows only that it is intact, so the file is reported unverified.
        var expected = file.Digest
            ?? new FileDigest(DigestAlgorithm.Sha256, await Sha256OfFileAsync(source, cancellationToken).ConfigureAwait(false), null) { Source = DigestSource.Mirror };
        if (await IsPresentAsync(target, expected, file.FileName, progress, cancellationToken).ConfigureAwait(false) is { } present)
            return present;

        var partial = target + PartialSuffix;
        using var hash = expected.NewHasher();
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
                    hash.Append(buffer.AsSpan(0, read));
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    done += read;
                    reporter.Report(done, final: false);
                }
                reporter.Report(done, final: true);
            }
        }
        return Finish(partial, target, expected, hash.Finish(), PulledFileOrigin.CopiedFromMirror,
            $"the mirror's copy {source} is corrupted — replace it");
    }

    /// <summary>Streams the body into the partial file, hashing the resumed prefix and the new bytes as one.</summary>
    private static async Task<(string Sha256, string Checked)> ReceiveAsync(
        HttpResponseMessage response, string partial, long existing, long? total, string fileName, Uri url, FileDigest expected,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        using var hash = expected.NewHasher();
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
                    hash.Append(buffer.AsSpan(0, prefixRead));
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
                        hash.Append(buffer.AsSpan(0, read));
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
        return hash.Finish();
    }

    /// <summary>Moves a partial file that matched its hash into place; a hash mismatch deletes it (resuming corrupt bytes would never help).</summary>
    private static PulledFile Finish(
        string partial, string target, FileDigest expected, (string Sha256, string Checked) actual, PulledFileOrigin origin, string remedy)
    {
        if (!string.Equals(expected.Hex, actual.Checked, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(partial);
            throw new FileHashMismatchException(
                $"{expected.AlgorithmName} mismatch for {Path.GetFileName(target)}: expected {expected.Hex}, got {actual.Checked}; {remedy}");
        }
        File.Move(partial, target, overwrite: true);
        return new PulledFile(target, actual.Sha256, new FileInfo(target).Length, origin, expected.Source);
    }

    private static async Task<PulledFile?> IsPresentAsync(
        string target, FileDigest expected, string fileName, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        if (!File.Exists(target))
            return null;
        var length = new FileInfo(target).Length;
        if (expected.Size is { } size && size != length)
            return null;
        var actual = await HashFileAsync(target, expected, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(actual.Checked, expected.Hex, StringComparison.OrdinalIgnoreCase))
            return null;
        progress?.Report(new DownloadProgress(fileName, length, length, 0));
        return new PulledFile(target, actual.Sha256, length, PulledFileOrigin.AlreadyPresent, expected.Source);
    }

    private static async Task<(string Sha256, string Checked)> HashFileAsync(string path, FileDigest digest, CancellationToken cancellationToken)
    {
        using var hash = digest.NewHasher();
        var buffer = new byte[BufferSize];
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                hash.Append(buffer.AsSpan(0, read));
        }
        return hash.Finish();
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
