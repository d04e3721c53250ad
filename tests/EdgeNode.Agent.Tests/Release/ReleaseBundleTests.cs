using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Release;

/// <summary>
/// The release bundles ci/package writes: what they hold, that two runs give the same bytes, that SHA256SUMS
/// matches them, and that the x64 bundle unpacked anywhere runs a real model with nothing on PATH (no Node.js).
/// </summary>
public sealed class ReleaseBundleTests
{
    private static readonly string Release = Path.Combine(TestPaths.RepoRoot, "artifacts", "release");

    [Fact]
    public void Two_packaging_runs_give_byte_identical_bundles_that_match_their_checksums()
    {
        Package();
        var first = Bundles().ToDictionary(path => Path.GetFileName(path), File.ReadAllBytes);
        Package();
        var second = Bundles().ToDictionary(path => Path.GetFileName(path), File.ReadAllBytes);

        Assert.Equal(["edgenode-0.1.0-linux-arm64.tar.gz", "edgenode-0.1.0-linux-x64.tar.gz"], first.Keys.Order());
        foreach (var (name, bytes) in first)
            Assert.True(bytes.AsSpan().SequenceEqual(second[name]), $"{name} differs between two runs");

        var sums = File.ReadAllLines(Path.Combine(Release, "SHA256SUMS"))
            .Select(line => line.Split("  "))
            .ToDictionary(parts => parts[1], parts => parts[0]);
        foreach (var (name, bytes) in second)
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), sums[name]);
    }

    [Theory]
    [InlineData("linux-x64", (ushort)62)]
    [InlineData("linux-arm64", (ushort)183)]
    public void A_bundle_holds_the_binary_its_library_the_licences_and_a_readme(string rid, ushort elfMachine)
    {
        Package();
        var entries = ReadEntries(Path.Combine(Release, $"edgenode-0.1.0-{rid}.tar.gz"));
        var root = $"edgenode-0.1.0-{rid}/";

        Assert.Equal(
            new[] { "README.txt", "edgenode", "libe_sqlite3.so", "libonnxruntime.so", "licenses/PACKAGES.txt",
                "licenses/aspnetcore-LICENSE.txt", "licenses/aspnetcore-THIRD-PARTY-NOTICES.txt", "licenses/dotnet-LICENSE.txt",
                "licenses/dotnet-THIRD-PARTY-NOTICES.txt", "licenses/onnxruntime-LICENSE.txt", "licenses/onnxruntime-ThirdPartyNotices.txt",
                "licenses/sqlite-LICENSE.txt" },
            entries.Keys.Where(k => !k.EndsWith('/')).Select(k => k[root.Length..]).Order(StringComparer.Ordinal));
        Assert.Equal(elfMachine, BitConverter.ToUInt16(entries[root + "edgenode"], 18));
        Assert.Equal(elfMachine, BitConverter.ToUInt16(entries[root + "libonnxruntime.so"], 18));
        Assert.Equal(elfMachine, BitConverter.ToUInt16(entries[root + "libe_sqlite3.so"], 18));
        Assert.Contains("ONNX Runtime 1.31.1", System.Text.Encoding.UTF8.GetString(entries[root + "README.txt"]));
        Assert.Contains("MIT License", System.Text.Encoding.UTF8.GetString(entries[root + "licenses/onnxruntime-LICENSE.txt"]));
    }

    [Fact]
    public void The_unpacked_x64_bundle_generates_the_golden_tokens_with_nothing_on_path()
    {
        Package();
        using var place = TestPaths.NewTempDirectory("bundle");
        using (var gz = new GZipStream(File.OpenRead(Path.Combine(Release, "edgenode-0.1.0-linux-x64.tar.gz")), CompressionMode.Decompress))
            TarFile.ExtractToDirectory(gz, place.Path, overwriteFiles: false);
        using var emptyPath = TestPaths.NewTempDirectory("empty-path");
        using var home = TestPaths.NewTempDirectory("bundle-home");
        var golden = GoldenCase.Load("stories260K")[0];

        // An empty PATH: no node, no npm, no shell tools. The binary needs none of them.
        var result = AgentBinary.RunAt(Path.Combine(place.Path, "edgenode-0.1.0-linux-x64", "edgenode"),
            ["generate", "--model", golden.CheckpointPath, "--tokenizer", golden.TokenizerPath, "--prompt", golden.Prompt,
             "--max-tokens", golden.MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), "--temperature", "0", "--json"],
            new Dictionary<string, string?> { ["PATH"] = emptyPath.Path, ["EDGENODE_HOME"] = home.Path, ["EDGENODE_ORT_LIBRARY"] = null, ["EDGENODE_MODEL_MIRROR"] = null });

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(golden.Tokens, json.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
    }

    private static IEnumerable<string> Bundles() => Directory.GetFiles(Release, "edgenode-*.tar.gz").Order(StringComparer.Ordinal);

    private static readonly Lock s_packaging = new();

    /// <summary>Runs ci/package (which publishes nothing new when the binaries are current); one run at a time.</summary>
    private static void Package()
    {
        lock (s_packaging)
        {
            var psi = new ProcessStartInfo("bash", [Path.Combine(TestPaths.RepoRoot, "ci", "package")])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("ci/package did not finish within 15 minutes");
            }
            Assert.True(process.ExitCode == 0, $"ci/package failed: {stderr.Result}");
        }
    }

    private static Dictionary<string, byte[]> ReadEntries(string tarball)
    {
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var gz = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
        using var reader = new TarReader(gz);
        while (reader.GetNextEntry() is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            entries[entry.Name] = data.ToArray();
        }
        return entries;
    }
}
