using System.Collections.Concurrent;
using System.Net;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool.Security;
using EdgeNode.Pool.Slices;

namespace EdgeNode.Pool.Tests.Slices;

/// <summary>A slice server behind the pool secret's handshake, over real TCP: peers with the secret fetch, others are refused with a reason.</summary>
[Collection(SlicedModelCollection.Name)]
public sealed class SliceServerSecretTests(SlicedModel model)
{
    private static (SliceServer Server, ConcurrentQueue<string> Log) Serve(string folder, PoolHandshake handshake)
    {
        var log = new ConcurrentQueue<string>();
        var server = SliceServer.Start(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<string, string> { ["stories260K"] = folder },
            new SliceServerOptions { Authenticate = handshake.AcceptAsync, Log = log.Enqueue });
        return (server, log);
    }

    [Fact]
    public async Task A_peer_with_the_secret_fetches_and_the_files_match()
    {
        var handshake = new PoolHandshake("closet", "correct horse");
        var (server, _) = Serve(model.Folder, handshake);
        await using var _s = server;
        var target = model.NewFolder("with-secret");
        var result = await SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", model.Manifest, SliceSpec.Layers(1, 3), target,
            new SliceFetchOptions { Connect = new PoolHandshake("closet", "correct horse").Connector() });
        Assert.True(result.BytesTransferred > 0);
        foreach (var file in model.Manifest.FilesOf(model.Manifest.Find(false, 1, 3, false)!))
            Assert.Equal(File.ReadAllBytes(Path.Combine(model.Folder, file.Path)), File.ReadAllBytes(Path.Combine(target, file.Path)));
    }

    [Fact]
    public async Task A_peer_with_another_secret_or_the_same_secret_of_another_pool_is_refused_and_the_server_logs_why()
    {
        var (server, log) = Serve(model.Folder, new PoolHandshake("closet", "correct horse"));
        await using var _s = server;
        foreach (var stranger in new[] { new PoolHandshake("closet", "wrong horse"), new PoolHandshake("garage", "correct horse") })
        {
            var error = await Assert.ThrowsAsync<SliceFetchException>(() => SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", model.Manifest,
                SliceSpec.Layers(1, 3), model.NewFolder("stranger"), new SliceFetchOptions { Connect = stranger.Connector() }));
            Assert.Contains("does not prove this pool's secret", error.Message, StringComparison.Ordinal);
        }
        Assert.Equal(2, log.Count(l => l.Contains("refused", StringComparison.Ordinal) && l.Contains("does not prove this pool's secret", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_peer_without_a_secret_is_refused_and_a_secret_holder_does_not_trust_an_open_server()
    {
        var (server, log) = Serve(model.Folder, new PoolHandshake("closet", "correct horse"));
        await using var _s = server;
        var error = await Assert.ThrowsAsync<SliceFetchException>(() => SliceFetcher.FetchAsync(server.LocalEndpoint, "stories260K", model.Manifest,
            SliceSpec.Layers(1, 3), model.NewFolder("open-client")));
        Assert.Contains(server.LocalEndpoint.ToString(), error.Message, StringComparison.Ordinal);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!log.Any(l => l.Contains("did not answer the pool challenge", StringComparison.Ordinal) || l.Contains("closed the connection", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Contains(log, l => l.Contains("refused", StringComparison.Ordinal));

        // The other way round: an open server sends no challenge, so a node with the secret will not take its bytes.
        await using var open = SliceServer.Start(new IPEndPoint(IPAddress.Loopback, 0), new Dictionary<string, string> { ["stories260K"] = model.Folder });
        var refused = await Assert.ThrowsAsync<SliceFetchException>(() => SliceFetcher.FetchAsync(open.LocalEndpoint, "stories260K", model.Manifest,
            SliceSpec.Layers(1, 3), model.NewFolder("open-server"), new SliceFetchOptions { Connect = new PoolHandshake("closet", "correct horse").Connector() }));
        Assert.Contains("pool handshake", refused.Message, StringComparison.Ordinal);
    }
}
