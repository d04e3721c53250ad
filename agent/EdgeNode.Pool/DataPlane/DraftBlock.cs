using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EdgeNode.Inference.Speculative;

namespace EdgeNode.Pool.DataPlane;

/// <summary>What a draft block's fixed part says.</summary>
/// <param name="Drafts">k: the draft tokens, the last k of the block's tokens.</param>
/// <param name="Tokens">n: every position the pass runs (the uncached history, then the drafts); at least k + 1.</param>
/// <param name="HasDistributions">The drafts were sampled and each carries the sparse distribution it was drawn from.</param>
public readonly record struct DraftBlockInfo(int Drafts, int Tokens, bool HasDistributions)
{
    /// <summary>Positions before the drafts: the history the chain has not run yet, its last token last.</summary>
    public int Context => Tokens - Drafts;
}

/// <summary>
/// The payload of a <see cref="FrameType.Verify"/> frame and the front of a <see cref="FrameType.VerifyHidden"/> one
/// (little-endian): int32 k (drafts), int32 n (tokens, at least k + 1), int32 flags (bit 0: distributions follow),
/// int32 tokens[n] (the uncached history, then the k drafts), then, with bit 0, for each draft: int32 m,
/// int32 ids[m], float32 probabilities[m]. The entry checks it once against the vocabulary and the session's limits
/// and passes it on byte for byte; the last node reads the drafts out of it.
/// </summary>
public static class DraftBlock
{
    public const int FixedBytes = 12;
    private const int DistributionsFlag = 1;

    /// <summary>Bytes of a block with <paramref name="context"/> history tokens before <paramref name="draft"/>.</summary>
    public static int Length(int context, DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var length = FixedBytes + 4 * (context + draft.Count);
        if (draft.HasDistributions && draft.Count > 0)
        {
            for (var i = 0; i < draft.Count; i++)
                length += 4 + 8 * draft.CandidateIds(i).Length;
        }
        return length;
    }

    /// <summary>Writes the block; returns its length.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<int> context, DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var k = draft.Count;
        var distributions = draft.HasDistributions && k > 0;
        BinaryPrimitives.WriteInt32LittleEndian(destination, k);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], context.Length + k);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], distributions ? DistributionsFlag : 0);
        var at = FixedBytes;
        foreach (var token in context)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[at..], token);
            at += 4;
        }
        foreach (var token in draft.Proposed)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[at..], token);
            at += 4;
        }
        if (!distributions)
            return at;
        for (var i = 0; i < k; i++)
        {
            var ids = draft.CandidateIds(i);
            var probabilities = draft.CandidateProbabilities(i);
            BinaryPrimitives.WriteInt32LittleEndian(destination[at..], ids.Length);
            at += 4;
            foreach (var id in ids)
            {
                BinaryPrimitives.WriteInt32LittleEndian(destination[at..], id);
                at += 4;
            }
            foreach (var p in probabilities)
            {
                BinaryPrimitives.WriteSingleLittleEndian(destination[at..], p);
                at += 4;
            }
        }
        return at;
    }

    /// <summary>
    /// Checks a block's structure and contents: lengths that add up to exactly the block, at most
    /// <paramref name="maxDraft"/> drafts, every token and candidate id below <paramref name="vocabulary"/>, no
    /// negative or non-finite probability. Returns null when it is sound, else what is wrong (for an error frame).
    /// </summary>
    public static string? Check(ReadOnlySpan<byte> block, int maxDraft, int vocabulary, out DraftBlockInfo info)
    {
        info = default;
        if (block.Length < FixedBytes)
            return $"a draft block starts with {FixedBytes} bytes (drafts, tokens, flags); this one has {block.Length}";
        var k = BinaryPrimitives.ReadInt32LittleEndian(block);
        var n = BinaryPrimitives.ReadInt32LittleEndian(block[4..]);
        var flags = BinaryPrimitives.ReadInt32LittleEndian(block[8..]);
        if (k < 0 || k > maxDraft)
            return $"the draft has {k} tokens; this session verifies at most {maxDraft} per round (the pool's limit is {DataPlaneLimits.MaxDraftTokens})";
        if (n < k + 1 || n > (block.Length - FixedBytes) / 4)
            return $"the block says {n} tokens with {k} drafts: it needs at least k + 1 (the history's last token, then the drafts) and at most what its {block.Length} bytes hold";
        if ((flags & ~DistributionsFlag) != 0)
            return $"the block's flags 0x{flags:x} name bits this node does not know";
        var tokens = MemoryMarshal.Cast<byte, int>(block.Slice(FixedBytes, 4 * n));
        for (var i = 0; i < n; i++)
        {
            if ((uint)tokens[i] >= (uint)vocabulary)
            {
                return i >= n - k
                    ? $"draft token {i - (n - k)} is {tokens[i]}, outside the vocabulary (0..{vocabulary - 1})"
                    : $"history token at position {i} of the block is {tokens[i]}, outside the vocabulary (0..{vocabulary - 1})";
            }
        }
        var at = FixedBytes + 4 * n;
        var distributions = (flags & DistributionsFlag) != 0;
        if (distributions)
        {
            for (var d = 0; d < k; d++)
            {
                if (block.Length - at < 4)
                    return $"the block ends before the distribution of draft {d}";
                var m = BinaryPrimitives.ReadInt32LittleEndian(block[at..]);
                at += 4;
                if (m < 1 || m > vocabulary || (long)m * 8 > block.Length - at)
                    return $"the distribution of draft {d} declares {m} candidates: 1..{vocabulary} that fit the block are allowed";
                var ids = MemoryMarshal.Cast<byte, int>(block.Slice(at, 4 * m));
                var probabilities = MemoryMarshal.Cast<byte, float>(block.Slice(at + 4 * m, 4 * m));
                for (var j = 0; j < m; j++)
                {
                    if ((uint)ids[j] >= (uint)vocabulary)
                        return $"the draft distribution at position {d} names token {ids[j]}, outside the vocabulary (0..{vocabulary - 1})";
                    if (!(probabilities[j] >= 0) || float.IsInfinity(probabilities[j]))
                        return $"the draft distribution at position {d} gives token {ids[j]} probability {probabilities[j]}";
                }
                at += 8 * m;
            }
        }
        if (at != block.Length)
            return $"the draft block holds {block.Length - at} bytes past its declared contents";
        info = new DraftBlockInfo(k, n, distributions && k > 0);
        return null;
    }

    /// <summary>The block's n tokens (history then drafts) as they lie in it (a checked block; little-endian hosts).</summary>
    public static ReadOnlySpan<int> Tokens(ReadOnlySpan<byte> block, DraftBlockInfo info) =>
        MemoryMarshal.Cast<byte, int>(block.Slice(FixedBytes, 4 * info.Tokens));

    /// <summary>Reads a checked block's drafts (and their distributions) into <paramref name="draft"/> (cleared first).</summary>
    public static void ReadDraft(ReadOnlySpan<byte> block, DraftBlockInfo info, DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        if (info.Drafts > draft.MaxTokens)
            throw new InvalidDataException($"the draft has {info.Drafts} tokens; this node holds {draft.MaxTokens} per round for the session");
        draft.Clear();
        var tokens = Tokens(block, info);
        var drafts = tokens[info.Context..];
        if (!info.HasDistributions)
        {
            foreach (var token in drafts)
                draft.Add(token);
            return;
        }
        var at = FixedBytes + 4 * info.Tokens;
        for (var d = 0; d < info.Drafts; d++)
        {
            var m = BinaryPrimitives.ReadInt32LittleEndian(block[at..]);
            at += 4;
            draft.Add(drafts[d], MemoryMarshal.Cast<byte, int>(block.Slice(at, 4 * m)), MemoryMarshal.Cast<byte, float>(block.Slice(at + 4 * m, 4 * m)));
            at += 8 * m;
        }
    }
}
