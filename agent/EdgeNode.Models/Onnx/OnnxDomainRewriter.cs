using System.Text;

namespace EdgeNode.Models.Onnx;

/// <summary>What the rewriter shows of a node when asking whether to move it: its type, domain, input count and integer attributes.</summary>
public sealed record OnnxNodeView(string OpType, string Domain, int InputCount, IReadOnlyDictionary<string, long> IntAttributes)
{
    public long Attribute(string name) => IntAttributes.TryGetValue(name, out var value) ? value : 0;
}

/// <summary>
/// Moves chosen nodes of a serialized ONNX model to another operator domain (say, from ONNX Runtime's com.microsoft
/// MatMulNBits to the same-named operator of EdgeNode's own kernels) and imports that domain's opset. Everything else is
/// copied byte for byte; the weights stay in their external data file, so a graph of a few hundred nodes takes
/// microseconds and the folder on disk is never touched.
/// </summary>
public static class OnnxDomainRewriter
{
    private const int ModelGraph = 7;
    private const int ModelOpsetImport = 8;
    private const int OpsetDomain = 1;
    private const int OpsetVersion = 2;
    private const int GraphNode = 1;
    private const int NodeInput = 1;
    private const int NodeOpType = 4;
    private const int NodeAttribute = 5;
    private const int NodeDomain = 7;
    private const int AttributeName = 1;
    private const int AttributeInt = 3;

    /// <summary>
    /// The model with every top-level node <paramref name="select"/> accepts moved to <paramref name="domain"/>, or null when
    /// it accepts none. <paramref name="moved"/> counts them.
    /// </summary>
    public static byte[]? MoveNodes(ReadOnlySpan<byte> model, Func<OnnxNodeView, bool> select, string domain, long opsetVersion, out int moved)
    {
        ArgumentNullException.ThrowIfNull(select);
        ArgumentException.ThrowIfNullOrEmpty(domain);
        moved = 0;
        var output = new ProtoBuffer(model.Length + 1024);
        var reader = new ProtoReader(model);
        while (!reader.End)
        {
            var start = reader.Position;
            var (field, wire) = reader.ReadTag();
            if (field == ModelGraph && wire == ProtoWire.LengthDelimited)
            {
                var graph = RewriteGraph(reader.ReadBytes(), select, domain, ref moved);
                output.WriteBytes(ModelGraph, graph.WrittenSpan);
                continue;
            }
            reader.Skip(wire);
            output.WriteRaw(model[start..reader.Position]);
        }
        if (moved == 0)
            return null;
        var opset = new ProtoBuffer();
        opset.WriteString(OpsetDomain, domain);
        opset.WriteInt64(OpsetVersion, opsetVersion);
        output.WriteMessage(ModelOpsetImport, opset);
        return output.WrittenSpan.ToArray();
    }

    private static ProtoBuffer RewriteGraph(ReadOnlySpan<byte> graph, Func<OnnxNodeView, bool> select, string domain, ref int moved)
    {
        var output = new ProtoBuffer(graph.Length + 256);
        var reader = new ProtoReader(graph);
        while (!reader.End)
        {
            var start = reader.Position;
            var (field, wire) = reader.ReadTag();
            if (field == GraphNode && wire == ProtoWire.LengthDelimited)
            {
                var node = reader.ReadBytes();
                if (select(View(node)))
                {
                    output.WriteBytes(GraphNode, WithDomain(node, domain).WrittenSpan);
                    moved++;
                }
                else
                    output.WriteBytes(GraphNode, node);
                continue;
            }
            reader.Skip(wire);
            output.WriteRaw(graph[start..reader.Position]);
        }
        return output;
    }

    private static OnnxNodeView View(ReadOnlySpan<byte> node)
    {
        string opType = "", domain = "";
        var inputs = 0;
        var attributes = new Dictionary<string, long>(StringComparer.Ordinal);
        var reader = new ProtoReader(node);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (wire != ProtoWire.LengthDelimited)
            {
                reader.Skip(wire);
                continue;
            }
            var value = reader.ReadBytes();
            switch (field)
            {
                case NodeInput:
                    if (value.Length > 0)
                        inputs++;
                    break;
                case NodeOpType:
                    opType = Encoding.UTF8.GetString(value);
                    break;
                case NodeDomain:
                    domain = Encoding.UTF8.GetString(value);
                    break;
                case NodeAttribute:
                    ReadIntAttribute(value, attributes);
                    break;
            }
        }
        return new OnnxNodeView(opType, domain, inputs, attributes);
    }

    private static void ReadIntAttribute(ReadOnlySpan<byte> attribute, Dictionary<string, long> into)
    {
        string? name = null;
        long? value = null;
        var reader = new ProtoReader(attribute);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == AttributeName && wire == ProtoWire.LengthDelimited)
                name = Encoding.UTF8.GetString(reader.ReadBytes());
            else if (field == AttributeInt && wire == ProtoWire.Varint)
                value = (long)reader.ReadVarint();
            else
                reader.Skip(wire);
        }
        if (name is not null && value is { } integer)
            into[name] = integer;
    }

    private static ProtoBuffer WithDomain(ReadOnlySpan<byte> node, string domain)
    {
        var output = new ProtoBuffer(node.Length + domain.Length + 8);
        var reader = new ProtoReader(node);
        while (!reader.End)
        {
            var start = reader.Position;
            var (field, wire) = reader.ReadTag();
            reader.Skip(wire);
            if (field != NodeDomain)
                output.WriteRaw(node[start..reader.Position]);
        }
        output.WriteString(NodeDomain, domain);
        return output;
    }
}
