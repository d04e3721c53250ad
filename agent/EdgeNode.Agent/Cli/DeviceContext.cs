using System.Globalization;
using EdgeNode.Hardware;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Recipes;

namespace EdgeNode.Agent.Cli;

/// <summary>
/// The context a command runs a model at on this device: the smallest of the model's limit, the EDGENODE_CONTEXT
/// setting and what free memory (or --memory) leaves for the KV cache after the weights; an explicit --context is
/// checked against the same limits and refused, naming the limit, when it passes one.
/// </summary>
public static class DeviceContext
{
    public const string SettingVariable = "EDGENODE_CONTEXT";

    /// <summary>The EDGENODE_CONTEXT cap, if set.</summary>
    public static int? Setting()
    {
        var text = Environment.GetEnvironmentVariable(SettingVariable);
        if (string.IsNullOrWhiteSpace(text))
            return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new UsageException($"{SettingVariable}='{text}' is not a positive number of positions; unset it or set e.g. {SettingVariable}=8192");
    }

    /// <summary>Free memory now, or <paramref name="memoryText"/> (a size like 4G) when given.</summary>
    public static long Available(string? memoryText) =>
        memoryText is null ? HardwareProbe.Probe().Memory.AvailableBytes : ByteSize.Parse(memoryText, "--memory");

    /// <summary>The context for a converted model; <paramref name="requested"/> (--context, 0 = none) must fit every limit.</summary>
    public static ContextBudget For(ModelManifest manifest, long availableBytes, int requested)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var config = manifest.ToLlamaConfig();
        var weights = manifest.Files.Where(f => f.Path.EndsWith(".onnx", StringComparison.Ordinal) || f.Path.EndsWith(".onnx.data", StringComparison.Ordinal)).Sum(f => f.Bytes);
        var budget = ContextBudget.Choose(config.MaxSeqLen, Setting(), availableBytes, weights,
            ContextBudget.KvBytesPerPositionOf(config.Layers, config.KvHeads, config.HeadSize, manifest.KvPrecision));
        if (requested > 0)
            return budget.Request(requested);
        if (budget.Positions < 1)
            throw new InsufficientMemoryException(
                $"the weights ({ContextBudget.Size(weights)} × {ContextBudget.RuntimeOverhead.ToString(CultureInfo.InvariantCulture)}) leave no room for a KV cache in {ContextBudget.Size(availableBytes)}; use a smaller precision (--precision int4) or a pool");
        return budget;
    }
}
