using System.Security.Cryptography;
using System.Text;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Inference.Speculative;

/// <summary>
/// A short hash that is equal for two tokenizers only when they map text and ids alike: the vocabulary size, the stop
/// ids, every id's text (decoded in order) and the encoding of a probe with ASCII, digits, punctuation and non-ASCII
/// text. A draft whose ids mean other text than the target's would be verified into nonsense, so a verifier refuses
/// a session whose fingerprint differs from its model's. Two files holding the same tokenizer (a tokenizer.bin and
/// a GGUF's embedded vocabulary) give the same fingerprint.
/// </summary>
public static class TokenizerFingerprint
{
    private const string Probe = "Once upon a time, Lily said: \"Hello 123!\" — naïve café, 日本語 ✓\n\tend.";

    public static string Of(ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var text = new StringBuilder();
        text.Append(tokenizer.VocabSize).Append('|');
        foreach (var stop in tokenizer.StopTokens.Order())
            text.Append(stop).Append(',');
        text.Append('|');
        var decoder = tokenizer.CreateDecoder(0);
        for (var id = 0; id < tokenizer.VocabSize; id++)
            text.Append(decoder.Append(id)).Append('\u0001');
        text.Append(decoder.Flush()).Append('|');
        text.AppendJoin(',', tokenizer.Encode(Probe));
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..24];
    }
}
