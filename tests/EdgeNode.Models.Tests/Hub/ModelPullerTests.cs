using System.Security.Cryptography;
using EdgeNode.Models.Hub;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Hub;

/// <summary>
/// The puller against a real HTTP server on 127.0.0.1 that serves the stories260K files the way the hub does,
/// and against the shared models folder as a mirror.
/// </summary>
public sealed class ModelPullerTests : IDisposable
{
    private const string Stories260KSha256 = "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696";
    private const string Tok512Sha256 = "037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312";

    private readonly HubTestServer _server = new();
    private readonly TempDirectory _models = TestPaths.NewTempDirectory("pull");
    private readonly byte[] _stories260K = File.ReadAllBytes(TestPaths.Model("stories260K", "stories260K.bin"));

    public ModelPullerTests()
    {
        _server.Add("karpathy/tinyllamas", "main", "stories260K/stories260K.bin", _stories260K);
        _server.Add("karpathy/tinyllamas", "main", "stories260K/tok512.bin", File.ReadAllBytes(TestPaths.Model("stories260K", "tok512.bin")));
    }

    public void Dispose()
    {
        _server.Dispose();
        _models.Dispose();
    }

    [Fact]
    public async Task Downloads_and_verifies_every_file()
    {
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));
        var progress = new RecordingProgress();

        var pulled = await puller.PullAsync("stories260K", _models.Path, progress, CancellationToken.None);

        Assert.Equal(Path.Combine(_models.Path, "stories260K"), pulled.Directory);
        Assert.Equal(["stories260K.bin", "tok512.bin"], pulled.Files.Select(f => Path.GetFileName(f.Path)));
        Assert.All(pulled.Files, f => Assert.Equal(PulledFileOrigin.Downloaded, f.Origin));
        Assert.Equal(Stories260KSha256, Sha256Of(Path.Combine(pulled.Directory, "stories260K.bin")));
        Assert.Equal(Tok512Sha256, Sha256Of(Path.Combine(pulled.Directory, "tok512.bin")));
        Assert.Empty(Directory.GetFiles(pulled.Directory, "*.partial"));
        var last = progress.Reports.Last(r => r.File == "stories260K.bin");
        Assert.Equal(_stories260K.Length, last.BytesDone);
        Assert.Equal(_stories260K.Length, last.TotalBytes);
        Assert.True(last.IsComplete);
    }

    [Fact]
    public async Task Files_already_present_with_the_right_hash_are_not_fetched_again()
    {
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));
        await puller.PullAsync("stories260K", _models.Path, null, CancellationToken.None);
        var requestsBefore = _server.Requests.Count;

        var again = await puller.PullAsync("stories260K", _models.Path, null, CancellationToken.None);

        Assert.All(again.Files, f => Assert.Equal(PulledFileOrigin.AlreadyPresent, f.Origin));
        Assert.Equal(requestsBefore, _server.Requests.Count);
    }

    [Fact]
    public async Task A_cut_connection_leaves_a_partial_file_that_the_next_pull_resumes_with_a_range_request()
    {
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));
        _server.CutNextBodyAfter = 400_000;

        var cut = await Assert.ThrowsAsync<ModelPullException>(
            () => puller.PullAsync("stories260K", _models.Path, null, CancellationToken.None));
        Assert.Contains("run pull again to resume", cut.Message, StringComparison.Ordinal);
        var partial = Path.Combine(_models.Path, "stories260K", "stories260K.bin.partial");
        Assert.True(File.Exists(partial));
        var kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1, _stories260K.Length - 1);
        Assert.False(File.Exists(Path.Combine(_models.Path, "stories260K", "stories260K.bin")));

        var pulled = await puller.PullAsync("stories260K", _models.Path, null, CancellationToken.None);

        Assert.Contains(_server.Requests, r => r.Method == "GET" && r.Path.EndsWith("stories260K.bin", StringComparison.Ordinal)
            && r.Range == $"bytes={kept}-");
        Assert.Equal(Stories260KSha256, Sha256Of(Path.Combine(pulled.Directory, "stories260K.bin")));
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public async Task A_corrupted_byte_fails_the_sha256_check_and_leaves_no_file()
    {
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));
        _server.CorruptByteAt = 1000;

        var error = await Assert.ThrowsAsync<ModelPullException>(
            () => puller.PullAsync("stories260K", _models.Path, null, CancellationToken.None));

        Assert.StartsWith($"sha256 mismatch for stories260K.bin: expected {Stories260KSha256}, got ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("the download was corrupted — run pull again", error.Message, StringComparison.Ordinal);
        var directory = Path.Combine(_models.Path, "stories260K");
        Assert.False(File.Exists(Path.Combine(directory, "stories260K.bin")));
        Assert.False(File.Exists(Path.Combine(directory, "stories260K.bin.partial")));
    }

    [Fact]
    public async Task Without_a_pinned_hash_the_hubs_lfs_sha256_is_the_check_and_the_token_stays_on_the_hub()
    {
        var weights = _stories260K.AsSpan(0, 300_000).ToArray();
        _server.Add("someone/lfs-model", "v1", "weights.bin", weights, asLfs: true);
        var model = new CatalogModel("lfs-model", "test", "someone/lfs-model", "v1",
            [new CatalogFile("weights.bin", "weights.bin", null, null, "lfs-model/weights.bin")]);
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint, Token: "secret-token"));

        var pulled = await puller.PullAsync(model, _models.Path, null, CancellationToken.None);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(weights)), pulled.Files[0].Sha256);
        Assert.Equal(weights, File.ReadAllBytes(pulled.Files[0].Path));
        Assert.Equal(DigestSource.Hub, pulled.Files[0].CheckedAgainst);
        var hubRequests = _server.Requests.Where(r => r.Port == _server.Endpoint.Port).ToList();
        var cdnRequests = _server.Requests.Where(r => r.Port != _server.Endpoint.Port).ToList();
        Assert.Contains(hubRequests, r => r.Method == "HEAD");
        Assert.All(hubRequests, r => Assert.Equal("Bearer secret-token", r.Authorization));
        Assert.NotEmpty(cdnRequests);
        Assert.All(cdnRequests, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task A_file_that_does_not_match_the_hubs_lfs_sha256_is_rejected()
    {
        var weights = _stories260K.AsSpan(0, 200_000).ToArray();
        var wrong = new string('a', 64);
        _server.Add("someone/lfs-model", "main", "weights.bin", weights, asLfs: true, advertisedSha256: wrong);
        var model = new CatalogModel("lfs-model", "test", "someone/lfs-model", "main",
            [new CatalogFile("weights.bin", "weights.bin", null, null, "lfs-model/weights.bin")]);
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var error = await Assert.ThrowsAsync<FileHashMismatchException>(() => puller.PullAsync(model, _models.Path, null, CancellationToken.None));

        Assert.Contains($"sha256 mismatch for weights.bin: expected {wrong}", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_models.Path, "lfs-model")));
    }

    [Fact]
    public async Task A_missing_file_on_the_hub_is_named()
    {
        var model = new CatalogModel("missing", "test", "someone/missing", "main",
            [new CatalogFile("x.bin", "x.bin", null, new string('0', 64), "missing/x.bin")]);
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var error = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync(model, _models.Path, null, CancellationToken.None));

        Assert.Contains("x.bin not found at", error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 404", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("stories260K", new[] { "stories260K.bin", "tok512.bin" })]
    [InlineData("llama2xs-tok512-280K", new[] { "model.bin", "tok512.bin" })]
    [InlineData("llama2-tokenizer", new[] { "tokenizer.bin", "tokenizer.model" })]
    public async Task The_mirror_setting_copies_from_the_shared_models_folder(string name, string[] files)
    {
        // The endpoint is a closed port: anything that touched the network would fail.
        using var puller = new ModelPuller(new HubSettings(new Uri("http://127.0.0.1:9"), MirrorDirectory: TestPaths.SharedModels));
        var progress = new RecordingProgress();

        var pulled = await puller.PullAsync(name, _models.Path, progress, CancellationToken.None);

        Assert.Equal(files, pulled.Files.Select(f => Path.GetFileName(f.Path)));
        Assert.All(pulled.Files, f => Assert.Equal(PulledFileOrigin.CopiedFromMirror, f.Origin));
        Assert.All(pulled.Files, f => Assert.Equal(DigestSource.Pinned, f.CheckedAgainst));   // the catalog pins every one
        Assert.Empty(pulled.Unverified);
        foreach (var file in pulled.Files)
            Assert.Equal(file.Sha256, Sha256Of(file.Path));
        Assert.Contains(progress.Reports, r => r.IsComplete);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_mirror_copy_of_a_file_with_no_pinned_hash_is_unverified()
    {
        using var mirror = TestPaths.NewTempDirectory("mirror");
        Directory.CreateDirectory(Path.Combine(mirror.Path, "lfs-model"));
        File.WriteAllBytes(Path.Combine(mirror.Path, "lfs-model", "weights.bin"), _stories260K.AsSpan(0, 100_000).ToArray());
        var model = new CatalogModel("lfs-model", "test", "someone/lfs-model", "v1",
            [new CatalogFile("weights.bin", "weights.bin", null, null, "lfs-model/weights.bin")]);
        using var puller = new ModelPuller(new HubSettings(new Uri("http://127.0.0.1:9"), MirrorDirectory: mirror.Path));

        var pulled = await puller.PullAsync(model, _models.Path, null, CancellationToken.None);

        // The copy matched the mirror's file, which is all that was checked.
        Assert.Equal(DigestSource.Mirror, Assert.Single(pulled.Unverified).CheckedAgainst);
        Assert.False(pulled.Files[0].Verified);

        // A second pull finds the file in place, and it is still only as good as the mirror.
        var again = await puller.PullAsync(model, _models.Path, null, CancellationToken.None);
        Assert.Equal((PulledFileOrigin.AlreadyPresent, false), (again.Files[0].Origin, again.Files[0].Verified));
    }

    [Fact]
    public async Task A_mirror_that_lacks_a_file_says_which_path_it_looked_for()
    {
        using var mirror = TestPaths.NewTempDirectory("mirror");
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint, MirrorDirectory: mirror.Path));

        var error = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync("stories260K", _models.Path, null, CancellationToken.None));

        Assert.Contains(Path.Combine(mirror.Path, "stories260K", "stories260K.bin"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_without_a_hub_source_points_at_the_mirror_setting()
    {
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var error = await Assert.ThrowsAsync<ModelPullException>(
            () => puller.PullAsync("llama2xs-tok512-280K", _models.Path, null, CancellationToken.None));

        Assert.Contains("not published on the Hugging Face hub", error.Message, StringComparison.Ordinal);
        Assert.Contains(HubSettings.MirrorVariable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_name_lists_the_known_ones()
    {
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var error = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync("x", _models.Path, null, CancellationToken.None));

        Assert.Equal("unknown model 'x'; known: stories260K, stories15M, llama2xs-tok512-280K, llama2-tokenizer, "
            + "llama3.2-1b, mistral-7b, qwen2.5-0.5b, qwen3-0.6b, smollm2-360m, tinyllama-1.1b", error.Message);
    }

    [Fact]
    public void Hub_urls_follow_the_resolve_layout()
    {
        using var puller = new ModelPuller(new HubSettings(new Uri("https://huggingface.co/")));
        var model = ModelCatalog.Find("stories260K");

        Assert.Equal("https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/stories260K.bin",
            puller.SourceUrl(model, model.Files[0]).AbsoluteUri);
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>Records synchronously (Progress&lt;T&gt; would post to the thread pool and race the assertions).</summary>
    private sealed class RecordingProgress : IProgress<DownloadProgress>
    {
        private readonly List<DownloadProgress> _reports = [];

        public IReadOnlyList<DownloadProgress> Reports
        {
            get { lock (_reports) return [.. _reports]; }
        }

        public void Report(DownloadProgress value)
        {
            lock (_reports) _reports.Add(value);
        }
    }
}
