using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Synthetic;
using EdgeNode.Models;
using EdgeNode.Pool.Bench;
using EdgeNode.Pool.Slices;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Pool.Tests.Slices;

/// <summary>
/// A slice fetched between two network namespaces (two hosts of a <see cref="NetworkLab"/>) over veth links and a
/// bridge, the link into the fetching host limited to 50 Mbit/s with tbf, as a closet switch port would limit it. Checks the files and prints the fraction of the link rate the transfer reached
/// (the target is 80%); the number is printed, not asserted, since it depends on the machine. Needs root.
/// </summary>
public sealed class SliceTransferOverVethTests(ITestOutputHelper output) : IDisposable
{
    private const double LinkBitsPerSecond = 50e6;

    private readonly TempDirectory _dir = TestPaths.NewTempDirectory("slice-veth");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_slice_crosses_a_rate_limited_veth_intact_and_the_achieved_rate_is_printed()
    {
        // Random weights at the stories15M shape: its six layers make a 25 MB slice, four seconds at 50 Mbit/s.
        var weights = SyntheticCheckpoints.Generate(SyntheticCheckpoints.Shapes["stories15M"], seed: 7);
        var source = Path.Combine(_dir.Path, "source");
        var spec = SliceSpec.Layers(0, weights.Config.Layers);
        var published = SliceBuilder.Build(weights, null, [spec], source, new ConversionOptions { Name = "stories15M-random" });

        // Two hosts on the lab's bridge; the link into the fetching host is limited as a 50 Mbit/s switch port would be.
        using var lab = NetworkLab.Create(hosts: 2);
        var (serving, fetching) = (lab.Hosts[0], lab.Hosts[1]);
        NetworkLab.LimitRate(fetching, "50mbit");

        await using var server = NetworkNamespaceEntry.Run(serving.Namespace, () => SliceServer.Start(new IPEndPoint(IPAddress.Parse(serving.Address), 0),
            new Dictionary<string, string> { ["stories15M-random"] = source }));
        var target = Path.Combine(_dir.Path, "target");
        var samples = new List<(long Timestamp, long Bytes)>();
        var options = new SliceFetchOptions
        {
            ProgressInterval = TimeSpan.FromMilliseconds(100),
            Connect = async (peer, token) =>
            {
                var socket = NetworkNamespaceEntry.Run(fetching.Namespace, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });
                try
                {
                    await socket.ConnectAsync(peer, token);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
                return new NetworkStream(socket, ownsSocket: true);
            },
        };

        var result = await SliceFetcher.FetchAsync(server.LocalEndpoint, "stories15M-random", published, spec, target, options,
            new Recorder<SliceFetchProgress>(p => samples.Add((Stopwatch.GetTimestamp(), p.BytesTransferred))));

        foreach (var file in published.Files)
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(target, file.Path)))));
        // Steady rate: from the first report with bytes on the wire to the last, so connection set-up and the final
        // whole-file hash are not counted against the link.
        var first = samples.First(s => s.Bytes > 0);
        var last = samples[^1];
        var steady = (last.Bytes - first.Bytes) / Stopwatch.GetElapsedTime(first.Timestamp, last.Timestamp).TotalSeconds;
        output.WriteLine($"| bytes | elapsed s | overall MB/s | steady MB/s | link MB/s | steady / link |");
        output.WriteLine($"| {result.BytesTransferred} | {result.Elapsed.TotalSeconds:F2} | {result.BytesPerSecond / 1e6:F2} | {steady / 1e6:F2} | {LinkBitsPerSecond / 8 / 1e6:F2} | {steady * 8 / LinkBitsPerSecond:P1} |");
        Assert.Equal(result.BytesTotal, result.BytesTransferred);
        Assert.True(result.Elapsed > TimeSpan.FromSeconds(2), $"{result.BytesTransferred} bytes in {result.Elapsed}: the 50 Mbit/s limit did not apply");
    }
}
