using System.Runtime.InteropServices;

namespace EdgeNode.OnnxRuntime;

/// <summary>Aligned native memory; tensors created over it hold a reference so it outlives them.</summary>
internal sealed unsafe class NativeMemoryHandle : SafeHandle
{
    public NativeMemoryHandle(nuint byteCount, nuint alignment)
        : base(0, ownsHandle: true)
    {
        // Zero-byte buffers still get a valid, freeable address.
        var memory = NativeMemory.AlignedAlloc(byteCount == 0 ? 1 : byteCount, alignment);
        NativeMemory.Clear(memory, byteCount);
        SetHandle((nint)memory);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        return true;
    }
}
