namespace EdgeNode.Pool.Slices;

/// <summary>Settings of a <see cref="SliceServer"/>; every default is what `edgenode serve` uses.</summary>
public sealed record SliceServerOptions
{
    /// <summary>Bytes per chunk in the indexes this server builds (default <see cref="SliceWire.DefaultChunkBytes"/>).</summary>
    public int ChunkBytes { get; init; } = SliceWire.DefaultChunkBytes;

    /// <summary>Upload cap shared by every connection, in bytes per second; null for none.</summary>
    public long? MaxBytesPerSecond { get; init; }

    /// <summary>Connections served at once; one more is answered Busy and closed.</summary>
    public int MaxConnections { get; init; } = 16;

    /// <summary>A connection that sends no request for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs first on every connection (the pool secret's handshake, <see cref="Security.PoolHandshake.AcceptAsync"/>):
    /// null lets the peer in, a reason refuses it (logged, connection closed). Null: every peer is served.
    /// </summary>
    public Func<Stream, CancellationToken, ValueTask<string?>>? Authenticate { get; init; }

    /// <summary>Where refusals and skipped files are told (one line each); null keeps the server quiet.</summary>
    public Action<string>? Log { get; init; }
}
