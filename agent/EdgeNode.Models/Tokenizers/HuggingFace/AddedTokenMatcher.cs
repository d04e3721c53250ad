namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// Finds the tokenizer.json "added_tokens" (special tokens such as &lt;|begin_of_text|&gt; and extra ones such as
/// &lt;tool_call&gt;) in raw text before anything else runs, so their text never reaches the normalizer or BPE.
/// Matching is leftmost-longest over a character trie.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly List<Dictionary<char, int>> _children = [new()];
    private readonly List<int> _tokenAt = [-1]; // index into _tokens of the token ending at a trie node, or -1
    private readonly List<AddedToken> _tokens = [];

    public void Add(AddedToken token)
    {
        if (token.Content.Length == 0)
            return;
        var node = 0;
        foreach (var c in token.Content)
        {
            if (!_children[node].TryGetValue(c, out var child))
            {
                child = _children.Count;
                _children.Add([]);
                _tokenAt.Add(-1);
                _children[node][c] = child;
            }
            node = child;
        }
        _tokenAt[node] = _tokens.Count;
        _tokens.Add(token);
    }

    /// <summary>
    /// Cuts <paramref name="text"/> into stretches of plain text (Id -1) and added tokens (their id), in order.
    /// </summary>
    public void Split(string text, List<(int Start, int End, int Id)> segments)
    {
        segments.Clear();
        var plainStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            var (tokenIndex, end) = LongestAt(text, i);
            if (tokenIndex < 0)
            {
                i++;
                continue;
            }
            var token = _tokens[tokenIndex];
            var start = i;
            // lstrip / rstrip tokens swallow the whitespace next to them.
            if (token.StripLeft)
            {
                while (start > plainStart && char.IsWhiteSpace(text[start - 1]))
                    start--;
            }
            if (token.StripRight)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                    end++;
            }
            if (start > plainStart)
                segments.Add((plainStart, start, -1));
            segments.Add((start, end, token.Id));
            plainStart = end;
            i = end;
        }
        if (plainStart < text.Length)
            segments.Add((plainStart, text.Length, -1));
    }

    private (int TokenIndex, int End) LongestAt(string text, int start)
    {
        var node = 0;
        var best = -1;
        var bestEnd = start;
        for (var i = start; i < text.Length; i++)
        {
            if (!_children[node].TryGetValue(text[i], out node))
                break;
            if (_tokenAt[node] >= 0)
            {
                best = _tokenAt[node];
                bestEnd = i + 1;
            }
        }
        return (best, bestEnd);
    }
}
