using System.Text.Json;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool.Bench;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Tests.Support;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Processes;

/// <summary>A node with no model files joins a pool of nodes that hold the checkpoint: it fetches only its slice from them.</summary>
public sealed partial class PoolProcessTests
{
    [NetnsFact]
    public async Task ANodeWithoutModelFilesFetchesItsSliceFromPeersAndThePoolMatchesTheGoldens()
    {
        const string model = "stories260K";
        using var served = ServedFolder(model);
        using var lab = NetworkLab.Create(3);
        using var broker = MosquittoBroker.Start(lab.BridgeAddress);
        var pool = Nodes.UniquePool();
        var big = MaxMemory(model, 3, out _);
        var small = MaxMemory(model, 1, out _);
        await using var observer = new PoolMembership(new MembershipOptions { Pool = pool, Broker = BrokerAddress.Parse(broker.Url) }, null);
        await observer.StartAsync(null);
        var nodes = new List<PoolServeNode>();
        try
        {
            nodes.AddRange(lab.Hosts.Select((h, i) => PoolServeNode.Start(h, $"node-{i}", served.Path, broker.Url, pool, i == 0 ? big : small)));
            var epoch = WaitForCommonEpoch(nodes, 0);

            // node-3 has no --model: it takes up the pool's model and fetches the slice the leader gives it.
            var fetcher = PoolServeNode.Start(lab.AddHost(), "node-3", null, broker.Url, pool, small, ["--pool-model", model, "--fetch-rate", "256K"]);
            nodes.Add(fetcher);
            var next = WaitForCommonEpoch(nodes, epoch);
            Assert.True(fetcher.WaitForLog("fetched slice", TimeSpan.FromSeconds(5)), fetcher.Stderr);
            var fetched = LogState(fetcher.Stderr, "fetched slice");
            Assert.Contains($"fetching: slice {fetched.GetProperty("Slice").GetString()}:", fetcher.Stderr, StringComparison.Ordinal);   // progress in the log
            output.WriteLine($"node-3 fetched slice {fetched.GetProperty("Slice")}: {fetched.GetProperty("Bytes")} bytes in {fetched.GetProperty("FetchMs")} ms " +
                $"({fetched.GetProperty("MegabytesPerSecond")} MB/s, capped at 256 KiB/s); serving epoch {next} {(fetcher.Serving!.Value.At - fetcher.StartedAt).TotalMilliseconds:F0} ms after its process started");
            var bytes = fetched.GetProperty("Bytes").GetInt64();
            Assert.True(bytes > 0);
            // The cap reached the fetcher: beyond the token bucket's free burst (64 KiB) and the last read's unpaid
            // debt (64 KiB, per connection), bytes arrive at no more than 256 KiB/s.
            var floorMs = 1000.0 * (bytes - 3 * 65536) / (256 * 1024);
            Assert.True(fetched.GetProperty("FetchMs").GetDouble() >= floorMs, $"the fetch took {fetched.GetProperty("FetchMs")} ms; the cap allows no less than {floorMs:F0} ms");

            CheckGoldens(model, pool, broker.Url, null, hops: 4);

            // Its slice folder holds only its slice: the manifest lists one slice, and the files are that slice's.
            var folders = Directory.GetDirectories(Path.Combine(fetcher.HomePath, "slices"));
            var folder = Assert.Single(folders);
            var manifest = ModelManifest.Load(folder);
            var slice = Assert.Single(manifest.Slices);
            var view = await observer.WaitForAsync(v => v.Plans.ContainsKey(model), TimeSpan.FromSeconds(10), "a plan");
            var mine = view.Plans[model].Plan.For("node-3")!;
            Assert.Equal(new SliceSpec(mine.Embed, mine.FirstLayer, mine.EndLayer, mine.Head), slice.ToSpec());
            var expected = manifest.Files.Select(f => f.Path).Append(ModelManifest.FileName).Order(StringComparer.Ordinal).ToArray();
            var onDisk = Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(expected, onDisk);
            Assert.Equal(manifest.FilesOf(slice).Select(f => f.Path).Concat(mine.Embed || mine.Head ? manifest.ModelFiles.Select(f => f.Path) : []).Order(StringComparer.Ordinal),
                manifest.Files.Select(f => f.Path).Order(StringComparer.Ordinal));
            output.WriteLine($"node-3's folder holds {string.Join(", ", onDisk)} (slice {slice.ToSpec()})");

            // Every node publishes a measured speed once it serves (node-3 after its slice loaded).
            Assert.True(fetcher.WaitForLog("ms per layer", TimeSpan.FromSeconds(10)), fetcher.Stderr);
            view = await observer.WaitForAsync(v => v.Nodes.Count(n => n.State.Model(model)?.MsPerLayer is > 0) == 4, TimeSpan.FromSeconds(10),
                "a measured ms_per_layer from every node");
            foreach (var n in view.Nodes.OrderBy(n => n.State.NodeId, StringComparer.Ordinal))
                output.WriteLine($"{n.State.NodeId}: {n.State.Model(model)!.MsPerLayer} ms/layer (local: {n.State.Model(model)!.Local})");
            Assert.False(view.Node("node-3")!.State.Model(model)!.Local);
        }
        finally
        {
            StopAll(nodes);
        }
    }

    /// <summary>The State of the last JSON log line containing <paramref name="text"/>.</summary>
    private static JsonElement LogState(string stderr, string text)
    {
        var line = stderr.Split('\n').Last(l => l.StartsWith('{') && l.Contains(text, StringComparison.Ordinal));
        using var log = JsonDocument.Parse(line);
        return log.RootElement.GetProperty("State").Clone();
    }
}
