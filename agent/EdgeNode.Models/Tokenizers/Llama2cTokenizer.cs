using System.Buffers.Binary;
using System.Text;

namespace EdgeNode.Models.Tokenizers;

/// <summary>
/// The llama2.c tokenizer: a SentencePiece BPE vocabulary exported as (score, bytes) records, encoded by
/// repeatedly merging the adjacent pair whose merged piece has the best score, exactly as run.c does.
/// </summary>
public sealed class Llama2cTokenizer : ITextTokenizer
{
    public const int Bos = 1;
    public const int Eos = 2;

    // Byte-fallback pieces <0x00>..<0xFF> occupy ids 3..258 in every SentencePiece export llama2.c reads.
    private const int ByteFallbackOffset = 3;

    private readonly byte[][] _pieces;
    private readonly float[] _scores;
    private readonly Dictionary<string, int> _ids;
    private readonly int[] _singleByteValue; // the byte a <0xNN> piece stands for, or -1

    private Llama2cTokenizer(byte[][] pieces, float[] scores, int maxTokenLength)
    {
        _pieces = pieces;
        _scores = scores;
        MaxTokenLength = maxTokenLength;
        // Pieces are compared as bytes; Latin-1 maps bytes to chars one to one, so it serves as a byte-string key.
        _ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        _singleByteValue = new int[pieces.Length];
        for (var id = 0; id < pieces.Length; id++)
        {
            // run.c's lookup is a binary search that finds some match; for duplicate pieces keep the first.
            _ids.TryAdd(Encoding.Latin1.GetString(pieces[id]), id);
            _singleByteValue[id] = ParseByteFallback(pieces[id]);
        }
    }

    public int VocabSize => _pieces.Length;

    public int MaxTokenLength { get; }

    public static Llama2cTokenizer Load(string path, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(path);
        var fileName = Path.GetFileName(path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 4)
            throw new ModelFormatException($"{fileName}: {bytes.Length} bytes is too short for a llama2.c tokenizer (it starts with a 4-byte max_token_length); fetch it again");
        var maxTokenLength = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (maxTokenLength <= 0 || maxTokenLength > 1024)
            throw new ModelFormatException($"{fileName}: max_token_length = {maxTokenLength} is outside [1, 1024]; this is not a llama2.c tokenizer.bin — pass the model's tokenizer.bin");

        var pieces = new List<byte[]>();
        var scores = new List<float>();
        var offset = 4;
        while (offset < bytes.Length)
        {
            var index = pieces.Count;
            if (bytes.Length - offset < 8)
                throw new ModelFormatException($"{fileName}: truncated inside the record of token {index} at byte {offset}: 8 header bytes needed, {bytes.Length - offset} left; the download is incomplete — fetch it again");
            var score = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset));
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 4));
            offset += 8;
            if (length < 0 || length > maxTokenLength)
                throw new ModelFormatException($"{fileName}: token {index} has length {length}, outside [0, max_token_length = {maxTokenLength}]; the file is corrupt — fetch it again");
            if (bytes.Length - offset < length)
                throw new ModelFormatException($"{fileName}: truncated inside the bytes of token {index}: {length} needed, {bytes.Length - offset} left; the download is incomplete — fetch it again");
            pieces.Add(bytes.AsSpan(offset, length).ToArray());
            scores.Add(score);
            offset += length;
        }

        if (pieces.Count != vocabSize)
        {
            throw new ModelFormatException(
                $"{fileName} holds {pieces.Count} tokens but the model's vocab_size is {vocabSize}: wrong tokenizer for this model; pass --tokenizer with the model's own");
        }
        if (vocabSize < ByteFallbackOffset + 256)
            throw new ModelFormatException($"{fileName}: {vocabSize} tokens cannot hold the 256 byte-fallback pieces at ids 3..258; this is not a SentencePiece-derived tokenizer");
        return new Llama2cTokenizer([.. pieces], [.. scores], maxTokenLength);
    }

    /// <summary>The raw bytes of a piece, as stored (spaces as ' ', BOS as "\n&lt;s&gt;\n").</summary>
    public ReadOnlySpan<byte> PieceBytes(int token) => _pieces[token];

    public float Score(int token) => _scores[token];

    /// <summary>The raw piece text for display (not the decoded bytes: byte-fallback pieces show as &lt;0xNN&gt;).</summary>
    public string Piece(int token) => Encoding.UTF8.GetString(_pieces[token]);

    /// <summary>Whether <paramref name="token"/> is a &lt;0xNN&gt; byte-fallback piece.</summary>
    public bool IsByteFallback(int token) => _singleByteValue[token] >= 0;

    private static readonly IReadOnlySet<int> s_stopTokens = new HashSet<int> { Bos, Eos };

    /// <summary>llama2.c stories end with BOS (the start of the next story) or EOS.</summary>
    public IReadOnlySet<int> StopTokens => s_stopTokens;

    int[] ITextTokenizer.Encode(string text, bool addSpecialTokens) => Encode(text, addBos: addSpecialTokens);

    public ITokenTextDecoder CreateDecoder(int previousToken) => new TokenTextStream(this, previousToken);

    public int[] Encode(string text, bool addBos = true, bool addEos = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var utf8 = Encoding.UTF8.GetBytes(text);
        var tokens = new List<int>(utf8.Length + 3);
        if (addBos)
            tokens.Add(Bos);

        // SentencePiece's add_dummy_prefix: a leading space, but only for non-empty text.
        if (utf8.Length > 0)
            AddPieceOrBytes(tokens, [(byte)' ']);

        // Split into UTF-8 code points the way run.c does: a non-continuation byte starts a new one,
        // and at most four bytes form one.
        var start = 0;
        while (start < utf8.Length)
        {
            var end = start + 1;
            while (end < utf8.Length && (utf8[end] & 0xC0) == 0x80 && end - start < 4)
                end++;
            AddPieceOrBytes(tokens, utf8.AsSpan(start, end - start));
            start = end;
        }

        // run.c merges over the whole list, BOS included; no piece starts with BOS's text, so it never merges.
        MergePairs(tokens);

        if (addEos)
            tokens.Add(Eos);
        return [.. tokens];
    }

    /// <summary>
    /// Appends the bytes <paramref name="token"/> decodes to after <paramref name="previousToken"/>, by run.c's
    /// rules: the leading space of the first piece after BOS is dropped, and &lt;0xNN&gt; becomes that byte.
    /// </summary>
    /// <returns>The number of bytes written.</returns>
    public int AppendPieceBytes(int previousToken, int token, Span<byte> destination)
    {
        var single = _singleByteValue[token];
        if (single >= 0)
        {
            destination[0] = (byte)single;
            return 1;
        }
        ReadOnlySpan<byte> piece = _pieces[token];
        if (previousToken == Bos && piece.Length > 0 && piece[0] == (byte)' ')
            piece = piece[1..];
        piece.CopyTo(destination);
        return piece.Length;
    }

    /// <summary>Decodes a token sequence to text (tokens after the first are decoded relative to their predecessor).</summary>
    public string Decode(ReadOnlySpan<int> tokens, int previousToken = Bos)
    {
        var bytes = new List<byte>();
        Span<byte> buffer = stackalloc byte[MaxTokenLength + 1];
        foreach (var token in tokens)
        {
            var written = AppendPieceBytes(previousToken, token, buffer);
            for (var i = 0; i < written; i++)
                bytes.Add(buffer[i]);
            previousToken = token;
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    private void AddPieceOrBytes(List<int> tokens, ReadOnlySpan<byte> piece)
    {
        if (_ids.TryGetValue(Encoding.Latin1.GetString(piece), out var id))
        {
            tokens.Add(id);
            return;
        }
        foreach (var b in piece)
            tokens.Add(b + ByteFallbackOffset);
    }

    private void MergePairs(List<int> tokens)
    {
        var merged = new byte[2 * MaxTokenLength];
        while (true)
        {
            // run.c starts from -1e10 and takes a strictly better score, so the leftmost best pair wins ties.
            var bestScore = -1e10f;
            var bestId = -1;
            var bestIndex = -1;
            for (var i = 0; i < tokens.Count - 1; i++)
            {
                var left = _pieces[tokens[i]];
                var right = _pieces[tokens[i + 1]];
                if (left.Length + right.Length > merged.Length)
                    continue;
                left.CopyTo(merged, 0);
                right.CopyTo(merged, left.Length);
                if (_ids.TryGetValue(Encoding.Latin1.GetString(merged, 0, left.Length + right.Length), out var id) && _scores[id] > bestScore)
                {
                    bestScore = _scores[id];
                    bestId = id;
                    bestIndex = i;
                }
            }
            if (bestIndex < 0)
                return;
            tokens[bestIndex] = bestId;
            tokens.RemoveAt(bestIndex + 1);
        }
    }

    private static int ParseByteFallback(ReadOnlySpan<byte> piece)
    {
        // "<0xNN>" with two hex digits, as run.c's sscanf("<0x%02hhX>") accepts it.
        if (piece.Length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>')
            return -1;
        var high = HexValue(piece[3]);
        var low = HexValue(piece[4]);
        return high < 0 || low < 0 ? -1 : high * 16 + low;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => -1,
    };
}
