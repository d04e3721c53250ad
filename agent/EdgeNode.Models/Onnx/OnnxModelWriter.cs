using System.Globalization;
using System.Runtime.InteropServices;

namespace EdgeNode.Models.Onnx;

/// <summary>
/// Writes an ONNX ModelProto without a protobuf library. Graph parts are encoded as they are added;
/// tensors of <see cref="ExternalThreshold"/> bytes or more are streamed straight to an external data file
/// beside the model, so a multi-gigabyte model never has to sit in memory and ONNX Runtime can memory-map
/// its weights.
/// </summary>
public sealed class OnnxModelWriter : IDisposable
{
    /// <summary>Tensors at least this large go to the external data file; smaller ones stay inline.</summary>
    public const int ExternalThreshold = 1024;

    // Offsets aligned to 64 bytes keep every external tensor aligned for SIMD loads once mapped.
    private const int ExternalAlignment = 64;

    private const long IrVersion = 10;
    private const string ProducerName = "edgenode";

    // ModelProto fields.
    private const int ModelIrVersion = 1;
    private const int ModelProducerName = 2;
    private const int ModelGraph = 7;
    private const int ModelOpsetImport = 8;
    private const int ModelMetadataProps = 14;

    // OperatorSetIdProto and StringStringEntryProto fields.
    private const int OpsetDomain = 1;
    private const int OpsetVersion = 2;
    private const int EntryKey = 1;
    private const int EntryValue = 2;

    // GraphProto fields.
    private const int GraphNode = 1;
    private const int GraphName = 2;
    private const int GraphInitializer = 5;
    private const int GraphInput = 11;
    private const int GraphOutput = 12;

    // NodeProto fields.
    private const int NodeInput = 1;
    private const int NodeOutput = 2;
    private const int NodeName = 3;
    private const int NodeOpType = 4;
    private const int NodeAttribute = 5;
    private const int NodeDomain = 7;

    // TensorProto fields and DataLocation.EXTERNAL.
    private const int TensorDims = 1;
    private const int TensorDataType = 2;
    private const int TensorName = 8;
    private const int TensorRawData = 9;
    private const int TensorExternalData = 13;
    private const int TensorDataLocation = 14;
    private const int DataLocationExternal = 1;

    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto and Dimension fields.
    private const int ValueInfoName = 1;
    private const int ValueInfoType = 2;
    private const int TypeTensorType = 1;
    private const int TensorTypeElemType = 1;
    private const int TensorTypeShape = 2;
    private const int ShapeDim = 1;
    private const int DimValue = 1;
    private const int DimParam = 2;

    private static readonly byte[] s_padding = new byte[ExternalAlignment];

    private readonly string _onnxPath;
    private readonly string _graphName;
    private readonly string _externalDataPath;
    private readonly ProtoBuffer _nodes = new(4096);
    private readonly ProtoBuffer _initializers = new(4096);
    private readonly ProtoBuffer _inputs = new();
    private readonly ProtoBuffer _outputs = new();
    private readonly ProtoBuffer _opsets = new();
    private readonly ProtoBuffer _metadata = new();
    // Scratch buffers for nested messages, reused across calls.
    private readonly ProtoBuffer _message = new();
    private readonly ProtoBuffer _inner = new();
    private readonly ProtoBuffer _innermost = new();
    private readonly HashSet<string> _initializerNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _opsetDomains = new(StringComparer.Ordinal);
    private FileStream? _externalData;
    private long _externalDataBytes;
    private bool _saved;
    private bool _disposed;

    public OnnxModelWriter(string onnxPath, string graphName, string? externalDataFileName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        ArgumentException.ThrowIfNullOrEmpty(graphName);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; this writer copies memory as is");

        _onnxPath = Path.GetFullPath(onnxPath);
        _graphName = graphName;
        ExternalDataFileName = externalDataFileName ?? Path.GetFileName(_onnxPath) + ".data";
        // ONNX resolves "location" relative to the model's folder, so only a bare file name is portable.
        if (ExternalDataFileName.Length == 0 || ExternalDataFileName != Path.GetFileName(ExternalDataFileName))
            throw new ArgumentException($"external data file name must be a file name, not a path: '{ExternalDataFileName}'", nameof(externalDataFileName));
        _externalDataPath = Path.Combine(Path.GetDirectoryName(_onnxPath)!, ExternalDataFileName);
    }

    public string ExternalDataFileName { get; }

    /// <summary>Bytes written to the external data file so far, alignment padding included.</summary>
    public long ExternalDataBytes => _externalDataBytes;

    public void ImportOpset(string domain, long version)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ThrowIfClosed();
        if (!_opsetDomains.Add(domain))
            throw new ArgumentException($"opset for domain '{domain}' already imported", nameof(domain));
        _message.Clear();
        if (domain.Length > 0)
            _message.WriteString(OpsetDomain, domain);
        _message.WriteInt64(OpsetVersion, version);
        _opsets.WriteMessage(ModelOpsetImport, _message);
    }

    public void AddInput(string name, OnnxElementType type, params OnnxDim[] shape) => AddValueInfo(_inputs, GraphInput, name, type, shape);

    public void AddOutput(string name, OnnxElementType type, params OnnxDim[] shape) => AddValueInfo(_outputs, GraphOutput, name, type, shape);

    public void AddInitializer(string name, ReadOnlySpan<long> dims, ReadOnlySpan<float> data) =>
        AddInitializer(name, OnnxElementType.Float, dims, MemoryMarshal.AsBytes(data));

    public void AddInitializer(string name, OnnxElementType type, ReadOnlySpan<long> dims, ReadOnlySpan<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ThrowIfClosed();
        var expectedBytes = checked(ElementCount(dims) * ElementSize(type));
        if (data.Length != expectedBytes)
            throw new ArgumentException($"initializer '{name}': {data.Length} bytes given, shape [{string.Join(",", dims.ToArray())}] of {type} needs {expectedBytes}", nameof(data));
        if (!_initializerNames.Add(name))
            throw new ArgumentException($"initializer '{name}' already added", nameof(name));

        var tensor = _message;
        tensor.Clear();
        foreach (var dim in dims)
            tensor.WriteInt64(TensorDims, dim);
        tensor.WriteInt64(TensorDataType, (long)type);
        tensor.WriteString(TensorName, name);

        if (data.Length < ExternalThreshold)
        {
            tensor.WriteBytes(TensorRawData, data);
        }
        else
        {
            var offset = AppendExternal(data);
            WriteEntry(tensor, TensorExternalData, "location", ExternalDataFileName);
            WriteEntry(tensor, TensorExternalData, "offset", offset.ToString(CultureInfo.InvariantCulture));
            WriteEntry(tensor, TensorExternalData, "length", data.Length.ToString(CultureInfo.InvariantCulture));
            tensor.WriteInt64(TensorDataLocation, DataLocationExternal);
        }
        _initializers.WriteMessage(GraphInitializer, tensor);
    }

    public void AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string? domain = null, string? name = null, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ThrowIfClosed();

        var node = _message;
        node.Clear();
        // An empty input name is how ONNX marks an omitted optional input, so it is written as is.
        for (var i = 0; i < inputs.Count; i++)
            node.WriteString(NodeInput, inputs[i] ?? throw new ArgumentException("input names must not be null; use \"\" for an omitted optional input", nameof(inputs)));
        for (var i = 0; i < outputs.Count; i++)
            node.WriteString(NodeOutput, outputs[i] ?? throw new ArgumentException("output names must not be null", nameof(outputs)));
        if (!string.IsNullOrEmpty(name))
            node.WriteString(NodeName, name);
        node.WriteString(NodeOpType, opType);
        foreach (var attribute in attributes ?? [])
        {
            _inner.Clear();
            attribute.WriteTo(_inner);
            node.WriteMessage(NodeAttribute, _inner);
        }
        if (!string.IsNullOrEmpty(domain))
            node.WriteString(NodeDomain, domain);
        _nodes.WriteMessage(GraphNode, node);
    }

    public void SetMetadata(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        ThrowIfClosed();
        WriteEntry(_metadata, ModelMetadataProps, key, value);
    }

    /// <summary>Writes the .onnx file (through a temporary file, so a crash never leaves half a model) and closes the data file.</summary>
    public void Save()
    {
        ThrowIfClosed();
        if (_opsetDomains.Count == 0)
            throw new InvalidOperationException("no opset imported; call ImportOpset(\"\", version) before Save");
        _saved = true;

        if (_externalData is not null)
        {
            _externalData.Flush(flushToDisk: true);
            _externalData.Dispose();
            _externalData = null;
        }

        var graph = new ProtoBuffer(_nodes.Length + _initializers.Length + _inputs.Length + _outputs.Length + 64);
        graph.WriteRaw(_nodes.WrittenSpan);
        graph.WriteString(GraphName, _graphName);
        graph.WriteRaw(_initializers.WrittenSpan);
        graph.WriteRaw(_inputs.WrittenSpan);
        graph.WriteRaw(_outputs.WrittenSpan);

        var model = new ProtoBuffer(graph.Length + _opsets.Length + _metadata.Length + 64);
        model.WriteInt64(ModelIrVersion, IrVersion);
        model.WriteString(ModelProducerName, ProducerName);
        model.WriteMessage(ModelGraph, graph);
        model.WriteRaw(_opsets.WrittenSpan);
        model.WriteRaw(_metadata.WrittenSpan);

        var temporary = _onnxPath + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            model.CopyTo(file);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, _onnxPath, overwrite: true);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _externalData?.Dispose();
        _externalData = null;
    }

    private void AddValueInfo(ProtoBuffer target, int field, string name, OnnxElementType type, OnnxDim[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        ThrowIfClosed();

        // Built inside out: TensorShapeProto, then TypeProto.Tensor, then TypeProto, then ValueInfoProto.
        var shapeMessage = _inner;
        shapeMessage.Clear();
        foreach (var dim in shape)
        {
            _innermost.Clear();
            if (dim.Symbol is not null)
                _innermost.WriteString(DimParam, dim.Symbol);
            else
                _innermost.WriteInt64(DimValue, dim.Value);
            shapeMessage.WriteMessage(ShapeDim, _innermost);
        }

        _innermost.Clear();
        _innermost.WriteInt64(TensorTypeElemType, (long)type);
        _innermost.WriteMessage(TensorTypeShape, shapeMessage);

        shapeMessage.Clear();
        shapeMessage.WriteMessage(TypeTensorType, _innermost);

        _message.Clear();
        _message.WriteString(ValueInfoName, name);
        _message.WriteMessage(ValueInfoType, shapeMessage);
        target.WriteMessage(field, _message);
    }

    private long AppendExternal(ReadOnlySpan<byte> data)
    {
        _externalData ??= new FileStream(_externalDataPath, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1 << 20);
        var misalignment = (int)(_externalData.Position % ExternalAlignment);
        if (misalignment != 0)
            _externalData.Write(s_padding, 0, ExternalAlignment - misalignment);
        var offset = _externalData.Position;
        _externalData.Write(data);
        _externalDataBytes = _externalData.Position;
        return offset;
    }

    private static void WriteEntry(ProtoBuffer target, int field, string key, string value)
    {
        var entry = new ProtoBuffer(key.Length + value.Length + 8);
        entry.WriteString(EntryKey, key);
        entry.WriteString(EntryValue, value);
        target.WriteMessage(field, entry);
    }

    private static long ElementCount(ReadOnlySpan<long> dims)
    {
        long count = 1;
        foreach (var dim in dims)
        {
            if (dim < 0)
                throw new ArgumentException("initializer dimensions must not be negative", nameof(dims));
            count = checked(count * dim);
        }
        return count;
    }

    private static int ElementSize(OnnxElementType type) => type switch
    {
        OnnxElementType.Float or OnnxElementType.Int32 => 4,
        OnnxElementType.UInt8 or OnnxElementType.Int8 => 1,
        OnnxElementType.Int64 => 8,
        OnnxElementType.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unsupported element type"),
    };

    private void ThrowIfClosed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_saved)
            throw new InvalidOperationException("the model was already saved");
    }
}
