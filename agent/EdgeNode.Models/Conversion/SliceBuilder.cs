using EdgeNode.Models.Conversion.Quantization;
using EdgeNode.Models.Import;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Models.Conversion;

/// <summary>
/// Builds only some slices of a model from a local checkpoint: what a pool node assigned layers [a,b) does instead of
/// converting (or even holding) the whole model. Only the tensors those slices need are read, so memory follows the
/// slice. The graphs are the very bytes whole-model conversion writes for the same slices and options (one graph
/// builder, fed the same tensors), so their sha256 match the manifest the model's owner publishes.
/// </summary>
public static class SliceBuilder
{
    /// <summary>
    /// Reads from <paramref name="checkpointPath"/> (llama2.c .bin, .gguf or a Hugging Face folder) what
    /// <paramref name="specs"/> need and builds them into <paramref name="outFolder"/>; see <see cref="Build(LlamaWeights, string?, IReadOnlyList{SliceSpec}, string, ConversionOptions, IProgress{string}?)"/>.
    /// </summary>
    public static ModelManifest Build(string checkpointPath, string? tokenizerPath, IReadOnlyList<SliceSpec> specs, string outFolder, ConversionOptions options,
        IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(checkpointPath);
        ArgumentNullException.ThrowIfNull(options);
        RefuseWholeModelOptions(options);
        ArgumentNullException.ThrowIfNull(specs);
        var embed = specs.Any(s => s.Embed);
        var head = specs.Any(s => s.Head);
        // GGUF Q4_0/Q8_0 blocks go into the graph unchanged, as in whole-model conversion.
        var blocks = CheckpointReader.IsGguf(checkpointPath) && options.Precision != WeightPrecision.Fp32 && options.Prequantized is null ? new PrequantizedWeights() : null;
        progress?.Report($"reading {WeightSelection.For(specs)} of {Path.GetFileName(Path.GetFullPath(checkpointPath).TrimEnd('/'))}, one layer at a time");
        // The embedding and head now; each layer when the graph reaches it, and dropped once written, so memory holds
        // one layer (plus the embedding or head) whatever the slice's size.
        var ends = CheckpointReader.Read(checkpointPath, WeightSelection.Of(embed, head), blocks);
        var endBlocks = blocks?.Count ?? 0;
        LayerWeights ReadLayer(int layer)
        {
            blocks?.TruncateTo(endBlocks);
            // The previous layer's tensors (and the builder's copies of them) are garbage now, but in the large object
            // heap, which the runtime collects only when its budget runs out: without this, peak memory would still
            // grow with the slice's layers. One collection per layer costs milliseconds next to building the layer.
            if (layer > 0)
                GC.Collect();
            return CheckpointReader.Read(checkpointPath, WeightSelection.Of(false, false, (layer, layer + 1)), blocks).Layers[layer];
        }
        // The same default name as ModelConverter.Convert(checkpointPath, ...), so the manifests agree.
        var name = options.Name ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))) ?? "model";
        return Build(ends, tokenizerPath, specs, outFolder, options with { Name = name }, progress, ReadLayer, blocks);
    }

    /// <summary>
    /// Builds <paramref name="specs"/> (e.g. embed+0:3 on a first node, 3:6 on a middle one, 6:9+head on the last, or
    /// the separate embed and head slices) into <paramref name="outFolder"/> and records them in its manifest.json, which
    /// then lists only the slices and files this folder holds (added to those an earlier build or fetch of the same
    /// conversion put there). The tokenizer is copied when <paramref name="tokenizerPath"/> is given (a node that holds
    /// no embedding or head has no use for it).
    /// </summary>
    public static ModelManifest Build(LlamaWeights weights, string? tokenizerPath, IReadOnlyList<SliceSpec> specs, string outFolder, ConversionOptions options,
        IProgress<string>? progress = null) =>
        Build(weights, tokenizerPath, specs, outFolder, options, progress, layerSource: null, layerBlocks: null);

    private static ModelManifest Build(LlamaWeights weights, string? tokenizerPath, IReadOnlyList<SliceSpec> specs, string outFolder, ConversionOptions options,
        IProgress<string>? progress, Func<int, LayerWeights>? layerSource, PrequantizedWeights? layerBlocks)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(outFolder);
        ArgumentNullException.ThrowIfNull(options);
        RefuseWholeModelOptions(options);
        var config = weights.Config;
        if (specs.Count == 0)
            throw new ArgumentException("no slices named: build at least one (e.g. embed+0:3, 3:6 or 6:9+head)", nameof(specs));
        foreach (var spec in specs)
            spec.Validate(config);
        if (specs.GroupBy(s => s.FileName).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"slice {twice.Key} is named twice", nameof(specs));
        // Checked before any graph is built, as whole-model conversion does.
        if (tokenizerPath is not null)
            TextTokenizerLoader.Load(tokenizerPath, config.VocabSize);

        Directory.CreateDirectory(outFolder);
        var builder = layerSource is null
            ? ModelConverter.CreateBuilder(weights, options, options.Prequantized)
            : new LlamaSliceBuilder(weights, options.Precision, options.EffectiveBlockSize, options.AccuracyLevel, options.Asymmetric, options.Prequantized,
                options.EffectiveKvPrecision) { LayerSource = layerSource, LayerBlocks = layerBlocks };
        var slices = new List<ManifestSlice>(specs.Count);
        var written = new List<string>();
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            progress?.Report($"[{i + 1}/{specs.Count}] {spec.FileName}");
            var onnx = Path.Combine(outFolder, spec.FileName);
            builder.Build(spec, onnx);
            slices.Add(new ManifestSlice { File = spec.FileName, Embed = spec.Embed, FirstLayer = spec.FirstLayer, EndLayer = spec.EndLayer, Head = spec.Head });
            written.Add(onnx);
            if (File.Exists(onnx + ".data"))
                written.Add(onnx + ".data");
        }

        string tokenizerName = "";
        string? chatTemplate = options.ChatTemplate is { } chosen ? Chat.ChatTemplates.Get(chosen).Name : null;
        if (tokenizerPath is not null)
        {
            (tokenizerName, chatTemplate, var tokenizerFiles) = ModelConverter.CopyTokenizer(tokenizerPath, outFolder, options);
            written.AddRange(tokenizerFiles);
        }
        var files = written.Select(ModelConverter.HashFile).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        var manifest = ModelConverter.CreateManifest(config, options, tokenizerName, chatTemplate, slices, files, activationAware: null);
        return SliceFolder.Record(outFolder, manifest);
    }

    private static void RefuseWholeModelOptions(ConversionOptions options)
    {
        if (options.CalibrationTextPath is not null)
        {
            throw new ArgumentException(
                "activation-aware scaling calibrates on the whole model's forward pass: convert the whole checkpoint (models convert), " +
                "or fetch the slice from a node that did");
        }
        if (options.LayerRanges is not null)
            throw new ArgumentException("LayerRanges cut a whole-model conversion; a slice build names its slices instead");
    }
}
