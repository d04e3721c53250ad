using System.Diagnostics;
using System.Net;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Pool.Slices;

/// <summary>
/// Fetches the slice a plan gave a node that holds no checkpoint: asks the pool's peers (found afresh each round from
/// the retained states) for their manifests, takes those that list exactly this slice at the expected precision, and
/// fetches its files from all of them with <see cref="SliceFetcher"/>. A slice no peer offers yet (the provider is
/// still building it) is asked for again every half second until <paramref name="waitForSource"/> runs out; then the
/// fetch fails naming every peer's answer, and the daemon refuses the assignment.
/// </summary>
public static class PeerSliceFetch
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_manifestTimeout = TimeSpan.FromSeconds(5);

    /// <param name="peers">The peers to ask, read again each round (nodes come and go while a slice is built).</param>
    /// <param name="precision">The precision the slice must have (the model's, as the pool publishes it).</param>
    /// <param name="waiting">Told once per round, while no peer offers the slice, why not.</param>
    public static async Task<SliceFetchResult> FetchAsync(Func<IReadOnlyList<EndPoint>> peers, string model, string precision, SliceSpec spec, string outFolder,
        SliceFetchOptions options, TimeSpan waitForSource, IProgress<SliceFetchProgress>? progress, Action<string>? waiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(spec);
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var answers = new List<string>();
            var sources = new List<(EndPoint Peer, ModelManifest Manifest)>();
            var asked = peers();
            var manifests = await Task.WhenAll(asked.Select(async peer =>
            {
                try
                {
                    return (Peer: peer, Manifest: (ModelManifest?)await SliceFetcher.GetManifestAsync(peer, model, null, s_manifestTimeout, cancellationToken, options.Connect).ConfigureAwait(false),
                        Error: (string?)null);
                }
                catch (Exception e) when (e is IOException or ModelFormatException)
                {
                    return (Peer: peer, Manifest: null, Error: e.Message);
                }
            })).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var (peer, manifest, error) in manifests)
            {
                if (manifest is null)
                    answers.Add($"{peer}: {error}");
                else if (!string.Equals(manifest.Precision, precision, StringComparison.Ordinal))
                    answers.Add($"{peer}: holds {model} at {manifest.Precision}, not {precision}");
                else if (manifest.Find(spec.Embed, spec.FirstLayer, spec.EndLayer, spec.Head) is null)
                    answers.Add($"{peer}: has not built slice {spec} (it holds {string.Join(", ", manifest.Slices.Select(s => s.ToSpec()))})");
                else
                    sources.Add((peer, manifest));
            }
            if (sources.Count > 0)
                return await SliceFetcher.FetchAsync([.. sources.Select(s => s.Peer)], model, sources[0].Manifest, spec, outFolder, options, progress, cancellationToken).ConfigureAwait(false);
            var waited = Stopwatch.GetElapsedTime(started);
            var why = asked.Count == 0 ? "no live peer lists these weights" : string.Join("; ", answers);
            if (waited >= waitForSource)
                throw new SliceFetchException($"no peer offered slice {spec} of {model} within {waitForSource.TotalSeconds:F0} s: {why}; start a node that holds the checkpoint, or give this node the model with --model");
            waiting?.Invoke(why);
            await Task.Delay(s_poll, cancellationToken).ConfigureAwait(false);
        }
    }
}
