using System.Security.Cryptography;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Models.Conversion.Quantization;

/// <summary>
/// The text activation-aware scaling is calibrated on, cut into token sequences: one per paragraph (blank-line
/// separated, each starting as a prompt does), long paragraphs in windows of <see cref="WindowTokens"/>, stopping at a
/// token budget. The file's sha256 goes into the manifest so a conversion can be traced to its calibration.
/// </summary>
public sealed record ActivationCalibration(string Sha256, IReadOnlyList<int[]> Sequences)
{
    /// <summary>Long enough for attention to see real context, short enough to keep the reference pass's cache small.</summary>
    public const int WindowTokens = 256;

    public long Tokens => Sequences.Sum(s => (long)s.Length);

    public static ActivationCalibration Read(string path, ITextTokenizer tokenizer, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (!File.Exists(path))
            throw new FileNotFoundException($"calibration text {path} not found; pass a text file like what the model will read (--awq FILE)", path);
        var bytes = File.ReadAllBytes(path);
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        if (string.IsNullOrWhiteSpace(text))
            throw new ArgumentException($"calibration text {path} is empty; activation-aware scaling needs text to measure activations on");
        if (maxTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "the calibration budget must be at least one token");

        var sequences = new List<int[]>();
        var budget = maxTokens;
        var paragraphs = text.Replace("\r\n", "\n", StringComparison.Ordinal)
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var paragraph in paragraphs)
        {
            var tokens = tokenizer.Encode(paragraph);
            for (var start = 0; start < tokens.Length && budget > 0; start += WindowTokens)
            {
                var length = Math.Min(Math.Min(WindowTokens, tokens.Length - start), budget);
                sequences.Add(tokens.AsSpan(start, length).ToArray());
                budget -= length;
            }
            if (budget == 0)
                break;
        }
        return new ActivationCalibration(Convert.ToHexStringLower(SHA256.HashData(bytes)), sequences);
    }
}
