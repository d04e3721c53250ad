namespace EdgeNode.OnnxRuntime;

/// <summary>
/// Inputs and outputs bound to a session once and reused across runs, so KV caches and logits stay in the
/// same memory every decode step. While a tensor is bound, the binding holds a reference to it (and through it
/// to its memory), so disposing the tensor or its buffer early cannot leave ORT pointing at freed memory.
/// </summary>
public sealed unsafe class OrtIoBinding : IDisposable
{
    private readonly OrtSession _session;
    private readonly Dictionary<string, OrtHandle> _inputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrtHandle> _outputs = new(StringComparer.Ordinal);
    private bool _disposed;

    public OrtIoBinding(OrtSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        nint binding;
        OrtApi.Check(OrtApi.CreateIoBinding(session.Handle.Value, &binding));
        Handle = new OrtHandle(binding, OrtApi.ReleaseIoBinding, session.Handle);
    }

    internal OrtHandle Handle { get; }

    public void BindInput(string name, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        List<Utf8Name>? unknown = null;
        var utf8 = _session.NameOf(name, ref unknown);
        OrtApi.Check(OrtApi.BindInput(Handle.Value, utf8.Pointer, value.Handle.Value));
        Hold(_inputs, name, value.Handle);
        GC.KeepAlive(unknown);
    }

    public void BindOutput(string name, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        List<Utf8Name>? unknown = null;
        var utf8 = _session.NameOf(name, ref unknown);
        OrtApi.Check(OrtApi.BindOutput(Handle.Value, utf8.Pointer, value.Handle.Value));
        Hold(_outputs, name, value.Handle);
        GC.KeepAlive(unknown);
    }

    /// <summary>Lets ORT allocate the output in CPU memory on each run (for outputs whose shape is not known up front).</summary>
    public void BindOutputToCpu(string name)
    {
        List<Utf8Name>? unknown = null;
        var utf8 = _session.NameOf(name, ref unknown);
        OrtApi.Check(OrtApi.BindOutputToDevice(Handle.Value, utf8.Pointer, _session.Runtime.CpuMemoryInfo));
        if (_outputs.Remove(name, out var previous))
            previous.DangerousRelease();
        GC.KeepAlive(unknown);
    }

    /// <summary>The outputs of the last run in binding order, each a new tensor the caller disposes.</summary>
    public OrtValue[] GetOutputValues()
    {
        var allocator = _session.Runtime.DefaultAllocator;
        nint* values;
        nuint count;
        OrtApi.Check(OrtApi.GetBoundOutputValues(Handle.Value, allocator, &values, &count));
        if (count == 0 || values is null)
            return [];
        var outputs = new OrtValue[(int)count];
        for (var i = 0; i < outputs.Length; i++)
            outputs[i] = OrtValue.FromOwned(values[i]);
        OrtApi.Check(OrtApi.AllocatorFree(allocator, values));
        return outputs;
    }

    public void ClearBoundInputs()
    {
        OrtApi.ClearBoundInputs(Handle.Value);
        ReleaseAll(_inputs);
    }

    public void ClearBoundOutputs()
    {
        OrtApi.ClearBoundOutputs(Handle.Value);
        ReleaseAll(_outputs);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        // The native binding goes first so ORT drops its copies before the tensors they point into can be freed.
        Handle.Dispose();
        ReleaseAll(_inputs);
        ReleaseAll(_outputs);
    }

    private static void Hold(Dictionary<string, OrtHandle> held, string name, OrtHandle value)
    {
        var added = false;
        value.DangerousAddRef(ref added);
        if (held.Remove(name, out var previous))
            previous.DangerousRelease();
        held[name] = value;
    }

    private static void ReleaseAll(Dictionary<string, OrtHandle> held)
    {
        foreach (var value in held.Values)
            value.DangerousRelease();
        held.Clear();
    }
}
