using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeNode.Models.Recipes;

/// <summary>
/// One benchmark run as kept under docs/measurements/: the command that ran, when and where, the conversion it
/// measured, and the JSON the command wrote, unchanged. Written by ci/record-measurement; the recipes' `measured`
/// lists are derived from these records alone (<see cref="RecipeMeasurementStore"/>).
/// </summary>
public sealed class MeasurementRecord
{
    public const string EvalKind = "models eval";
    public const string BenchKind = "bench";

    public required string Command { get; init; }

    /// <summary>UTC day of the run, yyyy-MM-dd.</summary>
    public required string Date { get; init; }

    public required MeasurementMachine Machine { get; init; }

    public string? Commit { get; init; }

    /// <summary><see cref="EvalKind"/> (rows per precision) or <see cref="BenchKind"/> (one precision).</summary>
    public required string Kind { get; init; }

    /// <summary>The recipe the run measures, or null for a model without one.</summary>
    public string? Recipe { get; init; }

    /// <summary>"real weights" or "random weights at the shape of X".</summary>
    public required string Weights { get; init; }

    /// <summary>Block size of a bench run's conversion; eval runs carry it per row.</summary>
    public int? BlockSize { get; init; }

    public bool Asymmetric { get; init; }

    public bool ActivationAware { get; init; }

    /// <summary>
    /// Set when the command's own JSON was not kept and the figures were copied from where they had been stored: says
    /// from where. The report then holds only those figures.
    /// </summary>
    public string? TranscribedFrom { get; init; }

    /// <summary>The JSON the command wrote (`edgenode models eval --json-out` or `edgenode bench --json-out`).</summary>
    public required JsonElement Report { get; init; }

    /// <summary>Reads one record; a file that is not one is an error naming it.</summary>
    public static MeasurementRecord Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), MeasurementRecordJsonContext.Default.MeasurementRecord)
                ?? throw new ModelFormatException($"measurement {path}: the file holds JSON null, expected a record from ci/record-measurement");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"measurement {path}: not a record from ci/record-measurement: {e.Message}", e);
        }
    }
}

public sealed class MeasurementMachine
{
    /// <summary>The CPU's model name as /proc/cpuinfo gives it.</summary>
    public required string Cpu { get; init; }

    public int Cores { get; init; }

    public long? MemoryBytes { get; init; }

    public string? Kernel { get; init; }

    /// <summary>Which edgenode binary ran: speed and memory depend on it (NativeAOT or a JIT build).</summary>
    public string? Build { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MeasurementRecord))]
internal sealed partial class MeasurementRecordJsonContext : JsonSerializerContext;
