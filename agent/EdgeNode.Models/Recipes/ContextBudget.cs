using System.Globalization;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Models.Recipes;

/// <summary>
/// How many positions a conversation may hold on a device: the smallest of the model's own limit, a setting, and what
/// the memory left after the weights allows for the KV cache. Published contexts run to 32K–128K positions, whose
/// KV cache alone is several GiB, so the context is a property of the device as much as of the model; every
/// fit check counts the KV cache at the context chosen here.
/// </summary>
public sealed record ContextBudget
{
    /// <summary>ONNX Runtime's arenas, prepacked weights and activations, taken as a fifth on top of the weights.</summary>
    public const double RuntimeOverhead = 1.2;

    /// <summary>Below this many positions (or the model's own limit, when smaller) a device is not counted as able to run the model.</summary>
    public const int MinimumContext = 2048;

    /// <summary>Memory-bound contexts are rounded down to a multiple of this, so the figure is stable as free memory wobbles.</summary>
    public const int Granularity = 256;

    /// <summary>The context used: the smallest of the three limits.</summary>
    public required int Positions { get; init; }

    /// <summary>The model's trained context (max_position_embeddings).</summary>
    public required int ModelLimit { get; init; }

    /// <summary>The configured cap (EDGENODE_CONTEXT), if any.</summary>
    public int? Setting { get; init; }

    /// <summary>Positions whose KV cache fits in the memory the weights leave.</summary>
    public required int MemoryLimit { get; init; }

    public required long AvailableBytes { get; init; }
    public required long WeightBytes { get; init; }
    public required long KvBytesPerPosition { get; init; }

    /// <summary>KV cache at <see cref="Positions"/>.</summary>
    public long KvBytes => KvBytesPerPosition * Positions;

    /// <summary>Whether the device can run the model at a useful context.</summary>
    public bool Fits => Positions >= Math.Min(MinimumContext, ModelLimit);

    /// <summary>Which limit decided (for the one line the CLI prints).</summary>
    public string DecidedBy => Positions == MemoryLimit && MemoryLimit < ModelLimit && (Setting is null || MemoryLimit < Setting)
        ? "memory"
        : Setting is { } s && Positions == s && s < ModelLimit ? "setting" : "model";

    /// <summary>
    /// Keys and values of <paramref name="layers"/> layers for one position at <paramref name="precision"/>, heads as the
    /// attention kernel stores them (padded to a multiple of 16).
    /// </summary>
    public static long KvBytesPerPositionOf(int layers, int kvHeads, int headSize, KvPrecision precision) =>
        2L * layers * kvHeads * ((headSize + 15) / 16 * 16) * precision.ElementBytes();

    /// <summary>Positions whose KV cache fits beside <paramref name="weightBytes"/> of weights in <paramref name="availableBytes"/>.</summary>
    public static int MemoryLimitOf(long availableBytes, long weightBytes, long kvBytesPerPosition)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvBytesPerPosition);
        var left = availableBytes - (long)Math.Ceiling(weightBytes * RuntimeOverhead);
        if (left <= 0)
            return 0;
        var positions = left / kvBytesPerPosition;
        if (positions >= Granularity)
            positions = positions / Granularity * Granularity;
        return (int)Math.Min(int.MaxValue, positions);
    }

    /// <summary>The context for a model of <paramref name="modelLimit"/> positions on a device with <paramref name="availableBytes"/> free.</summary>
    public static ContextBudget Choose(int modelLimit, int? setting, long availableBytes, long weightBytes, long kvBytesPerPosition)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelLimit);
        if (setting is <= 0)
            throw new ArgumentOutOfRangeException(nameof(setting), setting, "the context setting must be a positive number of positions");
        var memory = MemoryLimitOf(availableBytes, weightBytes, kvBytesPerPosition);
        var positions = Math.Min(modelLimit, Math.Min(setting ?? int.MaxValue, memory));
        return new ContextBudget
        {
            Positions = positions, ModelLimit = modelLimit, Setting = setting, MemoryLimit = memory,
            AvailableBytes = availableBytes, WeightBytes = weightBytes, KvBytesPerPosition = kvBytesPerPosition,
        };
    }

    /// <summary>
    /// An explicit request: accepted when within every limit, else an error naming the limit it passes (a request is
    /// never silently cut down).
    /// </summary>
    public ContextBudget Request(int positions)
    {
        if (positions <= 0)
            throw new ArgumentOutOfRangeException(nameof(positions), positions, "--context must be a positive number of positions");
        if (positions > ModelLimit)
            throw new ContextTooLargeException($"--context {positions} is above the model's context of {ModelLimit} positions; use --context {ModelLimit} or less");
        var needed = (long)Math.Ceiling(WeightBytes * RuntimeOverhead) + KvBytesPerPosition * positions;
        if (positions > MemoryLimit)
            throw new ContextTooLargeException(
                $"--context {positions} needs {Size(needed)} (weights {Size(WeightBytes)} × {RuntimeOverhead.ToString(CultureInfo.InvariantCulture)} + KV cache {Size(KvBytesPerPosition * positions)}) but {Size(AvailableBytes)} is free: memory allows --context {MemoryLimit} or less");
        return this with { Positions = positions };
    }

    /// <summary>One line: the context and what bounded it.</summary>
    public string Describe()
    {
        var setting = Setting is { } s ? s.ToString(CultureInfo.InvariantCulture) : "none";
        return string.Create(CultureInfo.InvariantCulture,
            $"context {Positions} positions (model {ModelLimit}, setting {setting}, memory {MemoryLimit}: {Size(AvailableBytes)} free, weights {Size(WeightBytes)}, KV {KvBytesPerPosition / 1024.0:0.#} KiB per position, {Size(KvBytes)} at this context)");
    }

    public static string Size(long bytes) => bytes >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB");
}

/// <summary>A requested context is above the model's limit or what memory allows; the message names the limit.</summary>
public sealed class ContextTooLargeException(string message) : ArgumentException(message);
