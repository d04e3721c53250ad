using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool.Slices;
using Xunit.Abstractions;

namespace EdgeNode.Pool.Tests.Slices;

/// <summary>Slices fetched over real TCP on loopback from real slice servers serving the converted stories260K.</summary>
[Collection(SlicedModelCollection.Name)]
public sealed class SliceTransferTests(SlicedModel model, ITestOutputHelper output)
{
    // Small chunks so stories260K's slice files span several of them.
    private const int ChunkBytes = 64 * 1024;

    private static readonly SliceServerOptions s_serverOptions = new() { ChunkBytes = ChunkBytes };

    private static SliceServer Serve(string folder, SliceServerOptions? options = null) =>
        SliceServer.Start(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<string, string> { ["stories260K"] = folder }, options ?? s_serverOptions);

    [Fact]
    public async Task A_fetched_middle_slice_equals_the_source_files_and_runs_with_its_kv_cache()
    {
        await using var server = Serve(model.Folder);
        var target = model.NewFolder("fetched");
        var reports = new List<SliceFetchProgress>();

        var result = await SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", model.Manifest, SliceSpec.Layers(1, 3), target,
            progress: new Recorder<SliceFetchProgress>(reports.Add));

        foreach (var name in new[] { "layers_1_3.onnx", "layers_1_3.onnx.data" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(model.Folder, name)), File.ReadAllBytes(Path.Combine(target, name)));
        Assert.Equal(["layers_1_3.onnx", "layers_1_3.onnx.data", "manifest.json"], Directory.GetFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("layers_1_3.onnx", Assert.Single(result.Manifest.Slices).File);
        Assert.Equal(result.BytesTotal, result.BytesTransferred);
        Assert.Equal(model.Manifest.Files.Where(f => f.Path.StartsWith("layers_1_3", StringComparison.Ordinal)).Sum(f => f.Bytes), result.BytesTotal);
        var last = reports[^1];
        Assert.Equal((last.BytesTotal, last.ChunksTotal), (last.BytesDone, last.ChunksDone));
        Assert.True(last.ChunksTotal > 2, $"{last.ChunksTotal} chunks");
        output.WriteLine(last.ToString());

        // The fetched slice runs in the owner's chain, hidden in → hidden out, with its own KV cache, and the logits
        // over a prompt and decode steps equal the whole model's.
        var runtime = new InferenceRuntime(new InferenceOptions { Threads = 1 });
        var config = model.Manifest.ToLlamaConfig();
        using var whole = LocalModel.Load(runtime, model.Folder);
        using var state = whole.CreateState(64);
        using var embed = new SliceSession(runtime, Path.Combine(model.Folder, "embed.onnx"), SliceSpec.EmbedOnly, config);
        using var first = new SliceSession(runtime, Path.Combine(model.Folder, "layers_0_1.onnx"), SliceSpec.Layers(0, 1), config);
        using var middle = new SliceSession(runtime, Path.Combine(target, "layers_1_3.onnx"), SliceSpec.Layers(1, 3), config);
        using var rest = new SliceSession(runtime, Path.Combine(model.Folder, "layers_3_5.onnx"), SliceSpec.Layers(3, 5), config);
        using var head = new SliceSession(runtime, Path.Combine(model.Folder, "head.onnx"), SliceSpec.HeadOnly(config.Layers), config);
        using var firstCache = first.CreateCache(64);
        using var middleCache = middle.CreateCache(64);
        using var restCache = rest.CreateCache(64);
        int[][] steps = [[1, 403, 407, 261], [378], [432], [383]];
        foreach (var tokens in steps)
        {
            var expected = whole.Forward(tokens, state).ToArray();
            var hidden = embed.RunTokens(tokens, null).ToArray();
            hidden = first.RunHidden(hidden, firstCache).ToArray();
            hidden = middle.RunHidden(hidden, middleCache).ToArray();
            hidden = rest.RunHidden(hidden, restCache).ToArray();
            var logits = head.RunHidden(hidden.AsSpan(hidden.Length - config.Dim), null).ToArray();
            Assert.Equal(expected, logits);
        }
        Assert.Equal(7, middleCache.Length);
    }

    [Fact]
    public async Task A_corrupted_chunk_is_refused_and_fetched_again_from_another_peer()
    {
        var damaged = model.Copy("damaged-" + Guid.NewGuid().ToString("N")[..8]);
        await using var bad = Serve(damaged);
        await using var good = Serve(model.Folder);
        // The disk rots after the server indexed it: it serves the wrong bytes under the right hash.
        FlipByte(Path.Combine(damaged, "layers_1_3.onnx.data"), ChunkBytes + 100);
        var target = model.NewFolder("refetched");

        var result = await SliceFetcher.FetchAsync([bad.LocalEndpoint, good.LocalEndpoint], "stories260K", model.Manifest, SliceSpec.Layers(1, 3), target,
            new SliceFetchOptions { Connections = 1 });

        Assert.Equal(1, result.ChunksRefused);
        Assert.Equal(result.BytesTotal + ChunkBytes, result.BytesTransferred);
        Assert.Equal(File.ReadAllBytes(Path.Combine(model.Folder, "layers_1_3.onnx.data")), File.ReadAllBytes(Path.Combine(target, "layers_1_3.onnx.data")));
    }

    [Fact]
    public async Task A_chunk_no_peer_serves_intact_fails_naming_the_chunk_and_the_peer()
    {
        var damaged = model.Copy("damaged-" + Guid.NewGuid().ToString("N")[..8]);
        await using var bad = Serve(damaged);
        FlipByte(Path.Combine(damaged, "layers_1_3.onnx.data"), ChunkBytes + 100);
        var target = model.NewFolder("refused");

        var error = await Assert.ThrowsAsync<SliceFetchException>(() => SliceFetcher.FetchAsync(bad.LocalEndpoint, "stories260K", model.Manifest, SliceSpec.Layers(1, 3), target,
            new SliceFetchOptions { MaxAttemptsPerChunk = 3 }));

        output.WriteLine(error.Message);
        Assert.Contains("chunk 1 of layers_1_3.onnx.data", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{bad.LocalEndpoint}: sent bytes with sha256", error.Message, StringComparison.Ordinal);
        Assert.Contains("failed 3 times", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(target, "layers_1_3.onnx.data")));
    }

    [Fact]
    public async Task An_interrupted_fetch_resumes_from_the_verified_chunks_on_disk()
    {
        await using var server = Serve(model.Folder);
        var target = model.NewFolder("resumed");
        var spec = SliceSpec.Layers(0, 1);
        var total = model.Manifest.Files.Where(f => f.Path.StartsWith("layers_0_1", StringComparison.Ordinal)).Sum(f => f.Bytes);
        using var stop = new CancellationTokenSource();
        long doneAtStop = 0;
        var options = new SliceFetchOptions { Connections = 1, ProgressInterval = TimeSpan.Zero };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", model.Manifest, spec, target, options,
            new Recorder<SliceFetchProgress>(p =>
            {
                if (p.ChunksDone >= 2 && !stop.IsCancellationRequested)
                {
                    doneAtStop = p.BytesDone;
                    stop.Cancel();
                }
            }), stop.Token));
        Assert.False(File.Exists(Path.Combine(target, "layers_0_1.onnx.data")));
        Assert.True(File.Exists(Path.Combine(target, "layers_0_1.onnx.data.partial")));
        var sentBefore = server.BytesSent;

        var result = await SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", model.Manifest, spec, target, options);

        output.WriteLine($"stopped at {doneAtStop} of {total} bytes; the second run moved {result.BytesTransferred}, resumed {result.BytesResumed}");
        Assert.Equal(total, result.BytesTotal);
        Assert.True(result.BytesResumed >= doneAtStop, $"resumed {result.BytesResumed}, {doneAtStop} were verified when the fetch stopped");
        Assert.Equal(total - result.BytesResumed, result.BytesTransferred);
        Assert.True(result.BytesTransferred < total - ChunkBytes, $"{result.BytesTransferred} of {total} bytes fetched again");
        // What the server sent in the second run: the index, then only the missing chunks.
        Assert.InRange(server.BytesSent - sentBefore - result.BytesTransferred, 1, 8192);
        foreach (var name in new[] { "layers_0_1.onnx", "layers_0_1.onnx.data" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(model.Folder, name)), File.ReadAllBytes(Path.Combine(target, name)));

        // A third run finds everything in place and moves nothing.
        var again = await SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", model.Manifest, spec, target, options);
        Assert.Equal((0L, total), (again.BytesTransferred, again.BytesResumed));
    }

    [Fact]
    public async Task The_bandwidth_cap_holds_over_more_than_a_second()
    {
        await using var server = Serve(model.Folder);
        var target = model.NewFolder("capped");
        const long cap = 150_000;

        var clock = Stopwatch.StartNew();
        var result = await SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", model.Manifest, SliceSpec.Layers(1, 3), target,
            new SliceFetchOptions { MaxBytesPerSecond = cap });
        clock.Stop();

        var rate = result.BytesTransferred / clock.Elapsed.TotalSeconds;
        output.WriteLine($"{result.BytesTransferred} bytes in {clock.Elapsed.TotalSeconds:F2} s: {rate:F0} B/s under a cap of {cap} B/s ({rate / cap:P0})");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"the transfer took {clock.Elapsed}: too short to measure a cap");
        // Generous: the first burst (64 KiB, a sixth of these bytes) is free and timers are coarse; what must not happen is
        // running at loopback speed.
        Assert.InRange(rate, cap * 0.5, cap * 1.3);
    }

    [Fact]
    public async Task A_peer_whose_file_differs_from_the_published_one_is_not_used()
    {
        await using var server = Serve(model.Folder);
        var published = ModelManifest.Load(model.Folder);
        var data = published.Files.Single(f => f.Path == "layers_3_5.onnx.data");
        data.Sha256 = new string('0', 64);

        var error = await Assert.ThrowsAsync<SliceFetchException>(() => SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", published, SliceSpec.Layers(3, 5), model.NewFolder("lied")));

        Assert.Contains("no peer offers layers_3_5.onnx.data of stories260K as its owner published it", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{server.LocalEndpoint}: holds layers_3_5.onnx.data with", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_manifest_is_checked_against_the_hash_its_owner_published()
    {
        await using var server = Serve(model.Folder);
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(model.Folder, "manifest.json"))));

        var manifest = await SliceFetcher.GetManifestAsync(server.LocalEndpoint, "stories260K", sha256, TimeSpan.FromSeconds(5));
        Assert.Equal(model.Manifest.Files.Select(f => f.Sha256), manifest.Files.Select(f => f.Sha256));

        var error = await Assert.ThrowsAsync<SliceFetchException>(() => SliceFetcher.GetManifestAsync(server.LocalEndpoint, "stories260K", new string('a', 64), TimeSpan.FromSeconds(5)));
        Assert.Contains("not the aaaa", error.Message, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<SlicePeerRefusedException>(() => SliceFetcher.GetManifestAsync(server.LocalEndpoint, "tinyllama", null, TimeSpan.FromSeconds(5)));
        Assert.Equal(SliceResponseStatus.NotFound, missing.Status);
        Assert.Contains("serves no model 'tinyllama' (it serves: stories260K)", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_request_is_refused_with_a_reason_and_the_server_keeps_serving()
    {
        var lines = new List<string>();
        await using var server = Serve(model.Folder, s_serverOptions with { Log = line => { lock (lines) lines.Add(line); } });
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(server.LocalEndpoint);
            var stream = client.GetStream();
            await stream.WriteAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
            var header = new byte[SliceWire.HeaderBytes];
            await stream.ReadExactlyAsync(header).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Null(SliceWire.ReadResponseHeader(header, out var status, out var length));
            Assert.Equal(SliceResponseStatus.BadRequest, status);
            var reason = new byte[length];
            await stream.ReadExactlyAsync(reason);
            Assert.Contains("no ENSQ magic", System.Text.Encoding.UTF8.GetString(reason), StringComparison.Ordinal);
            // Framing is lost after a bad header: the server closes the connection.
            Assert.Equal(0, await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        }
        lock (lines)
            Assert.Contains(lines, l => l.Contains("refused a request", StringComparison.Ordinal));

        var result = await SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", model.Manifest, SliceSpec.EmbedOnly, model.NewFolder("after-refusal"));
        // The embed slice holds the embedding: the tokenizer comes with it.
        Assert.Contains(result.Manifest.Files, f => f.Path == "tokenizer.bin");
    }

    private static void FlipByte(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0x5a));
    }
}

/// <summary>Progress delivered on the reporting thread, in order (System.Progress would post to the thread pool).</summary>
internal sealed class Recorder<T>(Action<T> record) : IProgress<T>
{
    public void Report(T value) => record(value);
}
