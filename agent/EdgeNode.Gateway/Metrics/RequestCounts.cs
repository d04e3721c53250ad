using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;

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
        var key = (KnownMethod(method), route, status);
        if (!_counts.TryGetValue(key, out var box))
            box = _counts.GetOrAdd(key, static _ => new StrongBox<long>());
        Interlocked.Increment(ref box.Value);
    }

    /// <summary>
    /// The method, if a standard one: a client may send any token as a method, and each would otherwise become a
    /// series of its own, without bound.
    /// </summary>
    private static string KnownMethod(string method) => method switch
    {
        _ when HttpMethods.IsGet(method) => HttpMethods.Get,
        _ when HttpMethods.IsPost(method) => HttpMethods.Post,
        _ when HttpMethods.IsHead(method) => HttpMethods.Head,
        _ when HttpMethods.IsPut(method) => HttpMethods.Put,
        _ when HttpMethods.IsDelete(method) => HttpMethods.Delete,
        _ when HttpMethods.IsPatch(method) => HttpMethods.Patch,
        _ when HttpMethods.IsOptions(method) => HttpMethods.Options,
        _ => "other",
    };

    /// <summary>The counts so far, in a stable order, so successive scrapes list series alike.</summary>
    public List<(string Method, string Route, int Status, long Count)> Snapshot() =>
        [.. _counts.Select(e => (e.Key.Method, e.Key.Route, e.Key.Status, Interlocked.Read(ref e.Value.Value)))
            .OrderBy(e => e.Route, StringComparer.Ordinal).ThenBy(e => e.Method, StringComparer.Ordinal).ThenBy(e => e.Status)];
}
