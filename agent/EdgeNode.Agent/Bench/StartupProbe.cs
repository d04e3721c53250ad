using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeNode.Agent.Cli;

namespace EdgeNode.Agent.Bench;

/// <summary>Wall time and memory of a fresh `edgenode generate --max-tokens 1` process: what a user waits for and what a board must hold.</summary>
public sealed record StartupProbe(double WallMs, double PeakRssMb, double RssMb)
{
    private const int Runs = 7;

    /// <summary>
    /// Runs this binary's `generate --max-tokens 1` as a new process seven times: the median wall time, and the largest
    /// memory seen. Seven, not three: one start is ~50 ms, and on a shared 2-core machine single starts vary by ±10 ms.
    /// </summary>
    public static StartupProbe Measure(string folder, int threads, string? ortLibrary, IReadOnlyDictionary<string, string> sessionConfig)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this binary's path");
        var times = new List<double>();
        double peak = 0, rss = 0;
        for (var i = 0; i < Runs; i++)
        {
            var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "generate", "--model", folder, "--prompt", "Once upon a time", "--max-tokens", "1", "--temperature", "0", "--threads", threads.ToString(CultureInfo.InvariantCulture), "--json" })
                psi.ArgumentList.Add(a);
            if (sessionConfig.Count > 0)
            {
                psi.ArgumentList.Add("--ort-config");
                psi.ArgumentList.Add(string.Join(';', sessionConfig.Select(kv => $"{kv.Key}={kv.Value}")));
            }
            if (ortLibrary is not null)
            {
                psi.ArgumentList.Add("--ort-library");
                psi.ArgumentList.Add(ortLibrary);
            }
            var clock = Stopwatch.StartNew();
            using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start edgenode generate");
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            times.Add(clock.Elapsed.TotalMilliseconds);
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"edgenode generate failed during the startup measurement: {stderr.Trim()}");
            var report = JsonSerializer.Deserialize(stdout, AgentJsonContext.Default.GenerateReport);
            peak = Math.Max(peak, report?.PeakRssMb ?? 0);
            rss = Math.Max(rss, report?.RssMb ?? 0);
        }
        times.Sort();
        return new StartupProbe(times[Runs / 2], peak, rss);
    }
}
