using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EdgeNode.OnnxRuntime;

/// <summary>
/// The machine a shared library was built for, read from its ELF header. dlopen of a library of another
/// architecture fails with "wrong ELF class" or "cannot open shared object file", which does not tell a board
/// owner that they copied the x64 bundle onto an ARM board; reading the header first lets the error say so.
/// </summary>
public static class SharedLibraryHeader
{
    // e_machine values from the ELF specification.
    private const ushort MachineX86 = 3;
    private const ushort MachineArm = 40;
    private const ushort MachineX64 = 62;
    private const ushort MachineArm64 = 183;

    /// <summary>The library's architecture, or null when the file is not an ELF shared object (e.g. on macOS).</summary>
    public static Architecture? ReadArchitecture(string path)
    {
        Span<byte> header = stackalloc byte[20];
        using (var file = File.OpenRead(path))
        {
            if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
                return null;
        }
        if (header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F')
            return null;
        // e_ident[EI_DATA] says the byte order of every later field.
        var machine = header[5] == 2
            ? BinaryPrimitives.ReadUInt16BigEndian(header[18..])
            : BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
        return machine switch
        {
            MachineX64 => Architecture.X64,
            MachineArm64 => Architecture.Arm64,
            MachineArm => Architecture.Arm,
            MachineX86 => Architecture.X86,
            _ => (Architecture)(-1),
        };
    }

    public static string Describe(Architecture architecture) => architecture switch
    {
        Architecture.X64 => "x64",
        Architecture.Arm64 => "arm64 (aarch64)",
        Architecture.Arm => "32-bit arm",
        Architecture.X86 => "32-bit x86",
        _ => "an unknown machine",
    };
}
