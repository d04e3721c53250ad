namespace EdgeNode.Inference.Generation;

/// <summary>
/// Sits between the token decoder and the stream a caller sees, so streamed text never has to be taken back:
/// it holds the longest tail of the text that could still grow into a stop text, releases it once it no
/// longer can, and at a stop text releases only what came before it. The text is cut where a stop text is
/// first completed (at that stop text's start), which is the same however the text was split into pieces.
/// </summary>
public sealed class StopTextFilter
{
    private readonly string[] _stopTexts;
    private readonly int _longest;
    private char[] _held;
    private int _heldLength;

    public StopTextFilter(IReadOnlyList<string> stopTexts)
    {
        // An empty stop text would match before anything was said; it means no stop at all.
        _stopTexts = [.. stopTexts.Where(stop => stop.Length > 0)];
        _longest = _stopTexts.Length == 0 ? 0 : _stopTexts.Max(stop => stop.Length);
        _held = new char[Math.Max(16, 2 * _longest)];
    }

    /// <summary>A stop text has appeared; everything after it is dropped.</summary>
    public bool Stopped { get; private set; }

    /// <summary>How many characters are held back now, waiting to see whether they begin a stop text.</summary>
    public int HeldLength => _heldLength;

    /// <summary>Takes the next piece of text and returns what is now safe to show (often all of it, maybe "").</summary>
    public string Append(string piece)
    {
        if (Stopped || piece.Length == 0)
            return "";
        if (_stopTexts.Length == 0)
            return piece;

        if (_held.Length < _heldLength + piece.Length)
            Array.Resize(ref _held, Math.Max(2 * _held.Length, _heldLength + piece.Length));
        piece.CopyTo(_held.AsSpan(_heldLength));
        _heldLength += piece.Length;
        var pending = _held.AsSpan(0, _heldLength);

        // Everything before the held text was ruled out as a stop text's start when it was released, so a
        // match can only lie within the held text. The first one completed wins; at the same end, the longer.
        var cut = -1;
        var end = int.MaxValue;
        foreach (var stop in _stopTexts)
        {
            var at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (at + stop.Length < end || at + stop.Length == end && at < cut))
            {
                cut = at;
                end = at + stop.Length;
            }
        }
        if (cut >= 0)
        {
            Stopped = true;
            var before = new string(pending[..cut]);
            _heldLength = 0;
            return before;
        }

        var keep = HeldFrom(pending);
        if (keep == 0)
            return "";
        var released = new string(pending[..keep]);
        pending[keep..].CopyTo(_held);
        _heldLength -= keep;
        return released;
    }

    /// <summary>
    /// The generation has ended: <paramref name="unfinishedBytes"/> (what the decoder still held of an unfinished
    /// character) goes in last, then whatever was held back in case it began a stop text comes out as plain text,
    /// unless those last bytes completed one (then <see cref="Stopped"/> is set). Returns the text still to emit.
    /// </summary>
    public string Finish(string unfinishedBytes)
    {
        var tail = Append(unfinishedBytes);
        return Stopped ? tail : tail + Flush();
    }

    /// <summary>The text has ended without a stop text: whatever was held back is plain text after all.</summary>
    public string Flush()
    {
        if (Stopped || _heldLength == 0)
            return "";
        var rest = new string(_held, 0, _heldLength);
        _heldLength = 0;
        return rest;
    }

    /// <summary>Where the longest tail of <paramref name="pending"/> that begins some stop text starts (its length if none).</summary>
    private int HeldFrom(ReadOnlySpan<char> pending)
    {
        for (var start = Math.Max(0, pending.Length - (_longest - 1)); start < pending.Length; start++)
        {
            var tail = pending[start..];
            foreach (var stop in _stopTexts)
            {
                if (stop.Length > tail.Length && stop.AsSpan().StartsWith(tail, StringComparison.Ordinal))
                    return start;
            }
        }
        return pending.Length;
    }
}
