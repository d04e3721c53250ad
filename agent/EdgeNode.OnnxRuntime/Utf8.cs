using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeNode.OnnxRuntime;

/// <summary>UTF-8, NUL-terminated strings as the C API takes and returns them.</summary>
internal static unsafe class Utf8
{
    public static string ToString(byte* value) => value is null ? string.Empty : Marshal.PtrToStringUTF8((nint)value) ?? string.Empty;

    /// <summary>
    /// Encodes into an array on the pinned object heap, so its address is stable for as long as the array is
    /// referenced and nothing has to be freed by hand.
    /// </summary>
    public static byte[] ToPinnedNullTerminated(string value)
    {
        var bytes = GC.AllocateArray<byte>(Encoding.UTF8.GetByteCount(value) + 1, pinned: true);
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    public static byte* PointerOf(byte[] pinned) => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
}
