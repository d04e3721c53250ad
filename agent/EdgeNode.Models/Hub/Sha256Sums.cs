using System.Globalization;

namespace EdgeNode.Models.Hub;

/// <summary>
/// A mirror folder's SHA256SUMS file, in the format `sha256sum` writes and `sha256sum -c` checks: one
/// "&lt;64 hex digits&gt;  &lt;file name&gt;" per line ('*' before the name marks binary mode and is ignored);
/// blank lines and lines starting with '#' are skipped.
/// </summary>
public static class Sha256Sums
{
    public const string FileName = "SHA256SUMS";

    /// <summary>File name → sha256 (lowercase); an unreadable line is an error naming the file and line.</summary>
    public static Dictionary<string, string> Read(string path)
    {
        var sums = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var hash = space > 0 ? line[..space] : line;
            var name = space > 0 ? line[(space + 1)..].TrimStart(' ', '*') : "";
            if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit) || name.Length == 0)
            {
                throw new ModelPullException(string.Create(CultureInfo.InvariantCulture,
                    $"{path} line {i + 1}: '{lines[i]}' is not '<sha256>  <file name>' (the format sha256sum writes)"));
            }
            sums[name] = hash.ToLowerInvariant();
        }
        return sums;
    }
}
