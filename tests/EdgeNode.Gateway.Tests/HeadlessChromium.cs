using System.Diagnostics;
using System.Text;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// Debian's chromium, headless, loading one page of the node: its DOM after the page's scripts ran (--dump-dom), or a
/// screenshot. Each run gets its own profile folder and is killed, with every process it started, if it overruns.
/// </summary>
public static class HeadlessChromium
{
    public const string Binary = "/usr/bin/chromium";

    private static readonly string[] s_flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--disable-breakpad",
    ];

    /// <summary>The page's DOM once <paramref name="virtualTimeMs"/> of page time has passed.</summary>
    public static string DumpDom(string url, int virtualTimeMs) => Run(url, virtualTimeMs, ["--dump-dom"]);

    /// <summary>Writes a PNG of the page, as a 1280x900 window shows it, to <paramref name="file"/>.</summary>
    public static void Screenshot(string url, int virtualTimeMs, string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.Delete(file);
        Run(url, virtualTimeMs, [$"--screenshot={file}", "--window-size=1280,900", "--hide-scrollbars"]);
        Assert.True(File.Exists(file) && new FileInfo(file).Length > 0, $"chromium wrote no screenshot to {file}");
    }

    private static string Run(string url, int virtualTimeMs, string[] action)
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: run `bash ci/install --test`");
        using var profile = TestPaths.NewTempDirectory("chromium-profile");
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var flag in s_flags)
            start.ArgumentList.Add(flag);
        start.ArgumentList.Add($"--user-data-dir={profile.Path}");
        start.ArgumentList.Add($"--virtual-time-budget={virtualTimeMs}");
        foreach (var a in action)
            start.ArgumentList.Add(a);
        start.ArgumentList.Add(url);

        using var process = Process.Start(start)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var limit = TimeSpan.FromSeconds(60);
        try
        {
            if (!process.WaitForExit(limit))
                Assert.Fail($"chromium did not finish {url} within {limit.TotalSeconds:F0} s: {stderr}");
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode} on {url}: {stderr}");
            lock (stdout)
                return stdout.ToString();
        }
        finally
        {
            // Also on success: a renderer or zygote left behind would hold the profile folder and a core.
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
    }
}
