using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace EdgeNode.Gateway.Metrics;

/// <summary>
/// HTTP requests answered, by method, route and status. After the first request of a kind, counting one is a
/// dictionary read and an interlocked add: no lock and no allocation.
/// </summary>
internal sealed class RequestCounts
{
    private readonly ConcurrentDictionary<(string Method, string Route, int Status), StrongBox<long>> _counts = new();

    public void Count(string method, string route, int status)
    {
        var key = (method, route, status);
        if (!_counts.TryGetValue(key, out var box))
            box = _counts.GetOrAdd(key, static _ => new StrongBox<long>());
        Interlocked.Increment(ref box.Value);
    }

    /// <summary>The counts so far, in a stable order, so successive scrapes list series alike.</summary>
    public List<(string Method, string Route, int Status, long Count)> Snapshot() =>
        [.. _counts.Select(e => (e.Key.Method, e.Key.Route, e.Key.Status, Interlocked.Read(ref e.Value.Value)))
            .OrderBy(e => e.Route, StringComparer.Ordinal).ThenBy(e => e.Method, StringComparer.Ordinal).ThenBy(e => e.Status)];
}
