using System.Diagnostics;
using System.Text;

namespace EdgeNode.TestSupport;

/// <summary>
/// Runs a peer program (a Node.js script over the real npm packages, or Python's unicodedata) as the reference a test
/// compares with: the request on stdin, the answer from stdout; a non-zero exit or a hang is an error naming it.
/// </summary>
public static class PeerProcess
{
    public static string RunNode(string script, string stdin, TimeSpan? timeout = null) => Run("node", [script], stdin, timeout);

    public static string Run(string fileName, IReadOnlyList<string> arguments, string stdin, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(2);
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start");
        // Both pipes drain while stdin is written, so a large answer cannot block the peer.
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        var name = arguments.Count > 0 && fileName == "node" ? arguments[0] : fileName;
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} did not finish within {limit.TotalMinutes:F0} minutes");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{name} exited with {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
