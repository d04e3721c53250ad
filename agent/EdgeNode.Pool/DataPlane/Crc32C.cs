using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ArmCrc = System.Runtime.Intrinsics.Arm.Crc32;
using X86Crc = System.Runtime.Intrinsics.X86.Sse42;

namespace EdgeNode.Pool.DataPlane;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every data-plane frame. x64 (SSE4.2) and arm64 (ARMv8 CRC) compute it in
/// hardware, 8 bytes per instruction; other CPUs use a table. Written here rather than taken from a package because
/// it is a few lines and the hardware instruction computes exactly this polynomial.
/// </summary>
public static class Crc32C
{
    private const uint ReversedPolynomial = 0x82F63B78;
    private static readonly uint[] s_table = BuildTable();

    /// <summary>The CRC of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>Continues a running (not yet inverted) CRC state over <paramref name="data"/>; start with ~0 and invert at the end.</summary>
    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        if (X86Crc.X64.IsSupported)
        {
            ulong crc = state;
            while (data.Length >= 8)
            {
                crc = X86Crc.X64.Crc32(crc, MemoryMarshal.Read<ulong>(data));
                data = data[8..];
            }
            state = (uint)crc;
            foreach (var b in data)
                state = X86Crc.Crc32(state, b);
            return state;
        }
        if (ArmCrc.Arm64.IsSupported)
        {
            while (data.Length >= 8)
            {
                state = ArmCrc.Arm64.ComputeCrc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }
            foreach (var b in data)
                state = ArmCrc.ComputeCrc32C(state, b);
            return state;
        }
        foreach (var b in data)
            state = s_table[(state ^ b) & 0xFF] ^ (state >> 8);
        return state;
    }

    /// <summary>Continues a running CRC state over every segment of <paramref name="data"/>, in place.</summary>
    public static uint Append(uint state, in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
            return Append(state, data.FirstSpan);
        foreach (var segment in data)
            state = Append(state, segment.Span);
        return state;
    }

    /// <summary>The table fallback, also what the tests check the hardware path against.</summary>
    internal static uint ComputeWithTable(ReadOnlySpan<byte> data)
    {
        var state = ~0u;
        foreach (var b in data)
            state = s_table[(state ^ b) & 0xFF] ^ (state >> 8);
        return ~state;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
                c = (c & 1) != 0 ? (c >> 1) ^ ReversedPolynomial : c >> 1;
            table[i] = c;
        }
        return table;
    }
}
