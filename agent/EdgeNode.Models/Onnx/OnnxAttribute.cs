namespace EdgeNode.Models.Onnx;

/// <summary>A node attribute (ONNX AttributeProto) of one of the scalar or list kinds graphs here need.</summary>
public sealed class OnnxAttribute
{
    // AttributeProto.AttributeType values.
    private const int TypeFloat = 1;
    private const int TypeInt = 2;
    private const int TypeString = 3;
    private const int TypeFloats = 6;
    private const int TypeInts = 7;

    // AttributeProto field numbers.
    private const int FieldName = 1;
    private const int FieldF = 2;
    private const int FieldI = 3;
    private const int FieldS = 4;
    private const int FieldFloats = 7;
    private const int FieldInts = 8;
    private const int FieldType = 20;

    private readonly int _type;
    private readonly long _int;
    private readonly float _float;
    private readonly string? _string;
    private readonly long[]? _ints;
    private readonly float[]? _floats;

    private OnnxAttribute(string name, int type, long i = 0, float f = 0, string? s = null, long[]? ints = null, float[]? floats = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _type = type;
        _int = i;
        _float = f;
        _string = s;
        _ints = ints;
        _floats = floats;
    }

    public string Name { get; }

    public static OnnxAttribute Int(string name, long value) => new(name, TypeInt, i: value);

    public static OnnxAttribute Float(string name, float value) => new(name, TypeFloat, f: value);

    public static OnnxAttribute String(string name, string value) =>
        new(name, TypeString, s: value ?? throw new ArgumentNullException(nameof(value)));

    // Copies so a caller reusing its array cannot change an attribute after the node was added.
    public static OnnxAttribute Ints(string name, params long[] values) => new(name, TypeInts, ints: [.. values]);

    public static OnnxAttribute Floats(string name, params float[] values) => new(name, TypeFloats, floats: [.. values]);

    internal void WriteTo(ProtoBuffer attribute)
    {
        attribute.WriteString(FieldName, Name);
        attribute.WriteInt64(FieldType, _type);
        switch (_type)
        {
            case TypeInt:
                attribute.WriteInt64(FieldI, _int);
                break;
            case TypeFloat:
                attribute.WriteFloat(FieldF, _float);
                break;
            case TypeString:
                attribute.WriteString(FieldS, _string!);
                break;
            case TypeInts:
                // proto2 `repeated int64` without [packed]: one tagged entry per element.
                foreach (var value in _ints!)
                    attribute.WriteInt64(FieldInts, value);
                break;
            case TypeFloats:
                foreach (var value in _floats!)
                    attribute.WriteFloat(FieldFloats, value);
                break;
        }
    }
}
