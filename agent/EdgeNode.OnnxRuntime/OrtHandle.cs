using System.Runtime.InteropServices;

namespace EdgeNode.OnnxRuntime;

/// <summary>
/// Owns one native ORT object and releases it with its Release* function. A handle can hold a reference on a
/// parent (the environment under a session, the session under an IoBinding, the memory under a tensor), so the
/// parent is freed only after every child, whatever order callers dispose in or the finalizer runs in.
/// </summary>
internal sealed unsafe class OrtHandle : SafeHandle
{
    private readonly delegate* unmanaged<nint, void> _release;
    private readonly SafeHandle? _parent;
    private volatile bool _disposeRequested;

    public OrtHandle(nint handle, delegate* unmanaged<nint, void> release, SafeHandle? parent = null)
        : base(0, ownsHandle: true)
    {
        _release = release;
        if (parent is not null)
        {
            var added = false;
            parent.DangerousAddRef(ref added);
            _parent = parent;
        }
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>
    /// The raw pointer for a call; throws once the owner disposed it, even while children still hold it
    /// (IsClosed only turns true when the last reference is gone).
    /// </summary>
    public nint Value
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposeRequested || IsClosed, this);
            return handle;
        }
    }

    protected override void Dispose(bool disposing)
    {
        _disposeRequested = true;
        base.Dispose(disposing);
    }

    protected override bool ReleaseHandle()
    {
        _release(handle);
        _parent?.DangerousRelease();
        return true;
    }
}
