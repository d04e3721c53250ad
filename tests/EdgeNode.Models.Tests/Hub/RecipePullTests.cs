using System.Security.Cryptography;
using System.Text;
using EdgeNode.Models.Hub;
using EdgeNode.Models.Recipes;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Hub;

/// <summary>
/// Pulling a recipe against a real HTTP server that lists and serves its files the way the hub does: a real
/// tokenizer.json and tokenizer_config.json (kept in git, checked by blob sha1) and real weights (LFS, checked by sha256).
/// </summary>
public sealed class RecipePullTests : IDisposable
{
    private const string Repository = "test-owner/tiny-recipe";

    private static readonly string s_recipeJson = $$"""
        {
          "name": "tiny-recipe",
          "family": "llama",
          "architecture": "LlamaForCausalLM",
          "summary": "a recipe made for the pull tests",
          "format": "huggingface",
          "hub": {
            "repository": "{{Repository}}",
            "revision": "main",
            "files": [
              { "path": "config.json" },
              { "path": "tokenizer.json" },
              { "path": "tokenizer_config.json" },
              { "path": "weights/model.safetensors" }
            ]
          },
          "published_parameters": 260000,
          "shape": { "dim": 64, "hidden_dim": 172, "layers": 5, "heads": 8, "kv_heads": 4, "head_size": 8, "vocab_size": 512,
                     "rope_theta": 10000, "norm_eps": 1e-5, "tied_embeddings": true, "max_context": 512 },
          "chat_template": "llama2",
          "variants": [ { "name": "fp32", "precision": "fp32", "reason": "test", "pool_plans": [] } ]
        }
        """;

    private readonly HubTestServer _server = new();
    private readonly TempDirectory _models = TestPaths.NewTempDirectory("recipe-pull");
    private readonly ModelRecipe _recipe = RecipeCatalog.Parse(Encoding.UTF8.GetBytes(s_recipeJson), "tiny-recipe.json");
    private readonly Dictionary<string, byte[]> _content = new(StringComparer.Ordinal)
    {
        ["config.json"] = Encoding.UTF8.GetBytes("""{"architectures":["LlamaForCausalLM"],"hidden_size":64}"""),
        ["tokenizer.json"] = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "node_modules", "@lenml", "tokenizer-llama2", "models", "tokenizer.json")),
        ["tokenizer_config.json"] = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "node_modules", "@lenml", "tokenizer-llama2", "models", "tokenizer_config.json")),
        ["weights/model.safetensors"] = File.ReadAllBytes(TestPaths.Model("stories260K", "stories260K.bin")),
    };

    public RecipePullTests()
    {
        foreach (var (path, bytes) in _content)
            _server.Add(Repository, "main", path, bytes, asLfs: path.EndsWith(".safetensors", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _server.Dispose();
        _models.Dispose();
    }

    private string Folder => Path.Combine(_models.Path, "tiny-recipe");

    [Fact]
    public async Task Every_file_lands_checked_against_the_listing_with_no_per_file_hash_requests()
    {
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var pulled = await puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None);

        Assert.Equal(["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"], pulled.Files.Select(f => Path.GetFileName(f.Path)));
        AssertLanded("config.json", "tokenizer.json", "tokenizer_config.json", "weights/model.safetensors");
        Assert.All(pulled.Files, f => Assert.Equal(PulledFileOrigin.Downloaded, f.Origin));
        Assert.Empty(Directory.GetFiles(Folder, "*.partial"));
        Assert.Contains(_server.Requests, r => r.Method == "GET" && r.Path == $"/api/models/{Repository}/tree/main");
        Assert.DoesNotContain(_server.Requests, r => r.Method == "HEAD");
    }

    [Fact]
    public async Task A_listing_in_pages_is_read_to_the_end()
    {
        _server.TreePageSize = 2;
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var entries = await puller.ListAsync(Repository, "main", CancellationToken.None);
        await puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None);

        // Four files and the "weights" folder: three pages of two.
        Assert.Equal(["config.json", "tokenizer.json", "tokenizer_config.json", "weights/model.safetensors"], entries.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.True(_server.Requests.Count(r => r.Path.StartsWith("/api/models/", StringComparison.Ordinal)) >= 6);
        Assert.Equal(HubTestServer.GitBlobSha1(_content["config.json"]), entries.Single(e => e.Path == "config.json").BlobSha1);
        Assert.Null(entries.Single(e => e.Path == "config.json").LfsSha256);
        Assert.Equal(Sha256(_content["weights/model.safetensors"]), entries.Single(e => e.Path == "weights/model.safetensors").LfsSha256);
        AssertLanded("config.json", "tokenizer.json", "tokenizer_config.json", "weights/model.safetensors");
    }

    [Fact]
    public async Task A_corrupted_file_kept_in_git_fails_its_blob_sha1_naming_both_hashes_and_the_rest_still_lands()
    {
        _server.CorruptOnlyPath = "tokenizer.json";
        _server.CorruptByteAt = 100;
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var error = await Assert.ThrowsAsync<FileHashMismatchException>(() => puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None));

        var served = _content["tokenizer.json"].ToArray();
        served[100] ^= 0x5A;
        Assert.Equal($"git blob sha1 mismatch for tokenizer.json: expected {HubTestServer.GitBlobSha1(_content["tokenizer.json"])}, "
            + $"got {HubTestServer.GitBlobSha1(served)}; the download was corrupted — run pull again", error.Message);
        Assert.False(File.Exists(Path.Combine(Folder, "tokenizer.json")));
        Assert.False(File.Exists(Path.Combine(Folder, "tokenizer.json.partial")));
        AssertLanded("config.json", "tokenizer_config.json", "weights/model.safetensors");

        // Nothing that landed is fetched again.
        _server.CorruptByteAt = null;
        var again = await puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None);
        Assert.Equal([PulledFileOrigin.AlreadyPresent, PulledFileOrigin.Downloaded, PulledFileOrigin.AlreadyPresent, PulledFileOrigin.AlreadyPresent],
            again.Files.Select(f => f.Origin));
        AssertLanded("tokenizer.json");
    }

    [Fact]
    public async Task A_corrupted_lfs_file_fails_its_sha256_naming_both_hashes_and_the_rest_still_lands()
    {
        _server.CorruptOnlyPath = "weights/model.safetensors";
        _server.CorruptByteAt = 5000;
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var error = await Assert.ThrowsAsync<FileHashMismatchException>(() => puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None));

        var served = _content["weights/model.safetensors"].ToArray();
        served[5000] ^= 0x5A;
        Assert.Equal($"sha256 mismatch for model.safetensors: expected {Sha256(_content["weights/model.safetensors"])}, got {Sha256(served)}; "
            + "the download was corrupted — run pull again", error.Message);
        Assert.False(File.Exists(Path.Combine(Folder, "model.safetensors")));
        AssertLanded("config.json", "tokenizer.json", "tokenizer_config.json");
    }

    [Fact]
    public async Task An_interrupted_download_resumes_with_a_range_request_and_passes_its_check()
    {
        _server.CutNextBodyAfter = 300_000;
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var cut = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None));
        Assert.Contains("download of tokenizer.json stopped at", cut.Message, StringComparison.Ordinal);
        var partial = Path.Combine(Folder, "tokenizer.json.partial");
        var kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1, _content["tokenizer.json"].Length - 1);
        AssertLanded("config.json");

        var pulled = await puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None);

        Assert.Contains(_server.Requests, r => r.Path.EndsWith("/tokenizer.json", StringComparison.Ordinal) && r.Range == $"bytes={kept}-");
        Assert.Equal(PulledFileOrigin.AlreadyPresent, pulled.Files[0].Origin);
        AssertLanded("config.json", "tokenizer.json", "tokenizer_config.json", "weights/model.safetensors");
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public async Task A_mirror_with_sha256sums_needs_no_network()
    {
        using var mirror = WriteMirror();
        var sums = string.Join('\n', _content.Select(c => $"{Sha256(c.Value)}  {FileName(c.Key)}"));
        File.WriteAllText(Path.Combine(mirror.Path, "tiny-recipe", Sha256Sums.FileName), "# written by sha256sum\n" + sums + "\n");
        // The endpoint is a closed port: anything that touched the network would fail.
        using var puller = new ModelPuller(new HubSettings(new Uri("http://127.0.0.1:9"), MirrorDirectory: mirror.Path));

        var pulled = await puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None);

        Assert.All(pulled.Files, f => Assert.Equal(PulledFileOrigin.CopiedFromMirror, f.Origin));
        AssertLanded("config.json", "tokenizer.json", "tokenizer_config.json", "weights/model.safetensors");
    }

    [Fact]
    public async Task A_mirror_copy_checked_only_against_its_own_sha256sums_is_reported_unverified()
    {
        using var mirror = WriteMirror();
        var sums = string.Join('\n', _content.Select(c => $"{Sha256(c.Value)}  {FileName(c.Key)}"));
        File.WriteAllText(Path.Combine(mirror.Path, "tiny-recipe", Sha256Sums.FileName), sums + "\n");
        using var puller = new ModelPuller(new HubSettings(new Uri("http://127.0.0.1:9"), MirrorDirectory: mirror.Path));

        var pulled = await puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None);

        // The recipe pins no hash and the hub was not asked: only the mirror vouches for its files.
        Assert.All(pulled.Files, f => Assert.Equal(DigestSource.Mirror, f.CheckedAgainst));
        Assert.Equal(["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"], pulled.Unverified.Select(f => Path.GetFileName(f.Path)));
    }

    [Fact]
    public async Task A_mirror_copy_checked_against_the_hubs_listing_is_verified()
    {
        using var mirror = WriteMirror();
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint, MirrorDirectory: mirror.Path));

        var pulled = await puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None);

        Assert.All(pulled.Files, f => Assert.Equal((PulledFileOrigin.CopiedFromMirror, DigestSource.Hub), (f.Origin, f.CheckedAgainst)));
        Assert.Empty(pulled.Unverified);
    }

    [Fact]
    public async Task Once_the_hub_is_asked_its_hashes_replace_the_mirrors_own()
    {
        using var mirror = WriteMirror();
        // SHA256SUMS lists only config.json, and wrongly: the hub is asked for the other files, and its hash wins.
        File.WriteAllText(Path.Combine(mirror.Path, "tiny-recipe", Sha256Sums.FileName), $"{new string('0', 64)}  config.json\n");
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint, MirrorDirectory: mirror.Path));

        var pulled = await puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None);

        Assert.All(pulled.Files, f => Assert.Equal(DigestSource.Hub, f.CheckedAgainst));
        AssertLanded("config.json", "tokenizer.json", "tokenizer_config.json", "weights/model.safetensors");
    }

    [Fact]
    public async Task A_mirror_without_sha256sums_is_checked_against_the_hubs_listing()
    {
        using var mirror = WriteMirror();
        var copy = Path.Combine(mirror.Path, "tiny-recipe", "config.json");
        var bad = _content["config.json"].ToArray();
        bad[3] ^= 1;
        File.WriteAllBytes(copy, bad);
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint, MirrorDirectory: mirror.Path));

        var error = await Assert.ThrowsAsync<FileHashMismatchException>(() => puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None));

        Assert.Equal($"git blob sha1 mismatch for config.json: expected {HubTestServer.GitBlobSha1(_content["config.json"])}, got {HubTestServer.GitBlobSha1(bad)}; "
            + $"the mirror's copy {copy} is corrupted — replace it", error.Message);
        AssertLanded("tokenizer.json", "tokenizer_config.json", "weights/model.safetensors");
        Assert.DoesNotContain(_server.Requests, r => r.Path.Contains("/resolve/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_mirror_without_sha256sums_and_no_hub_says_how_to_add_the_hashes()
    {
        using var mirror = WriteMirror();
        using var puller = new ModelPuller(new HubSettings(new Uri("http://127.0.0.1:9"), MirrorDirectory: mirror.Path));

        var error = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync(_recipe, _models.Path, null, CancellationToken.None));

        Assert.Contains(Path.Combine(mirror.Path, "tiny-recipe", "SHA256SUMS"), error.Message, StringComparison.Ordinal);
        Assert.Contains("'<sha256>  config.json'", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot reach http://127.0.0.1:9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_recipe_file_missing_from_the_listing_is_named_with_the_repository()
    {
        var recipe = RecipeCatalog.Parse(Encoding.UTF8.GetBytes(s_recipeJson.Replace("tokenizer_config.json", "generation_config.json", StringComparison.Ordinal)), "t.json");
        using var puller = new ModelPuller(new HubSettings(_server.Endpoint));

        var error = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync(recipe, _models.Path, null, CancellationToken.None));

        Assert.StartsWith($"generation_config.json is not in {Repository} at main according to the hub's listing (4 files)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listing_that_is_not_an_array_is_an_error_naming_its_url()
    {
        var error = Assert.Throws<ModelPullException>(() => HubTreeListing.Parse("""{"error":"Repository not found"}"""u8, "http://hub/api/models/x/y/tree/main"));
        Assert.Equal("the tree listing at http://hub/api/models/x/y/tree/main is JSON Object, expected an array of files", error.Message);
    }

    [Fact]
    public void The_next_page_comes_from_the_link_header()
    {
        var current = new Uri("https://huggingface.co/api/models/a/b/tree/main?recursive=1");
        Assert.Equal("https://huggingface.co/api/models/a/b/tree/main?recursive=1&cursor=xyz",
            HubTreeListing.NextPage(["<https://huggingface.co/api/models/a/b/tree/main?recursive=1&cursor=xyz>; rel=\"next\""], current)?.AbsoluteUri);
        Assert.Null(HubTreeListing.NextPage(["<https://huggingface.co/x>; rel=\"prev\""], current));
    }

    private TempDirectory WriteMirror()
    {
        var mirror = TestPaths.NewTempDirectory("recipe-mirror");
        Directory.CreateDirectory(Path.Combine(mirror.Path, "tiny-recipe"));
        foreach (var (path, bytes) in _content)
            File.WriteAllBytes(Path.Combine(mirror.Path, "tiny-recipe", FileName(path)), bytes);
        return mirror;
    }

    private void AssertLanded(params string[] paths)
    {
        foreach (var path in paths)
            Assert.Equal(Sha256(_content[path]), Sha256(File.ReadAllBytes(Path.Combine(Folder, FileName(path)))));
    }

    private static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
