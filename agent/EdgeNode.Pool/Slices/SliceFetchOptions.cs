using System.Net;

namespace EdgeNode.Pool.Slices;

/// <summary>Settings of <see cref="SliceFetcher.FetchAsync"/>; every default is what `edgenode serve` uses.</summary>
public sealed record SliceFetchOptions
{
    /// <summary>Download cap for this fetch, in bytes per second (token bucket); null for none.</summary>
    public long? MaxBytesPerSecond { get; init; }

    /// <summary>Chunks in flight at once, each on its own connection. Two keep the link busy while a chunk is checked and written.</summary>
    public int Connections { get; init; } = 2;

    /// <summary>Times a chunk is asked for (from peer to peer in turn) before the fetch fails naming it.</summary>
    public int MaxAttemptsPerChunk { get; init; } = 4;

    /// <summary>Also fetch the files that belong to no slice (tokenizer); null: when the slice holds the embedding or the head.</summary>
    public bool? IncludeModelFiles { get; init; }

    /// <summary>
    /// Opens the connection to a peer; null: plain TCP. The daemon can wrap the stream in TLS with the pool's CA, or
    /// bind it to the interface of the pool's LAN.
    /// </summary>
    public Func<EndPoint, CancellationToken, ValueTask<Stream>>? Connect { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A peer that sends nothing for this long is given up on for that chunk.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Least time between two progress reports (the first and the last are always sent).</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}
