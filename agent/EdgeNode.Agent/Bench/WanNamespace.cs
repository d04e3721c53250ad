using System.Diagnostics;
using System.Globalization;

namespace EdgeNode.Agent.Bench;

/// <summary>
/// A network namespace for the verifier joined to this one by a veth pair, with tc tbf on both ends, so every byte
/// between the delay proxy (here) and the verifier (there) crosses a rate-limited link. Needs root and iproute2.
/// Removed on dispose (deleting the namespace deletes the veth pair).
/// </summary>
public sealed class WanNamespace : IDisposable
{
    public const string Name = "edgenode-spec-verifier";
    private const string HostSide = "en-spec0";
    private const string NamespaceSide = "en-spec1";
    public const string HostAddress = "10.77.31.1";
    public const string VerifierAddress = "10.77.31.2";

    private WanNamespace()
    {
    }

    public double? RateMbit { get; private set; }

    public static WanNamespace Create()
    {
        // A namespace left behind by an interrupted run would make the next one fail.
        Run("ip", ["netns", "del", Name], allowFailure: true);
        var wan = new WanNamespace();
        try
        {
            Run("ip", ["netns", "add", Name]);
            Run("ip", ["link", "add", HostSide, "type", "veth", "peer", "name", NamespaceSide]);
            Run("ip", ["link", "set", NamespaceSide, "netns", Name]);
            Run("ip", ["addr", "add", HostAddress + "/24", "dev", HostSide]);
            Run("ip", ["link", "set", HostSide, "up"]);
            Run("ip", ["netns", "exec", Name, "ip", "addr", "add", VerifierAddress + "/24", "dev", NamespaceSide]);
            Run("ip", ["netns", "exec", Name, "ip", "link", "set", NamespaceSide, "up"]);
            Run("ip", ["netns", "exec", Name, "ip", "link", "set", "lo", "up"]);
        }
        catch
        {
            wan.Dispose();
            throw;
        }
        return wan;
    }

    /// <summary>Sets (or replaces) tbf at <paramref name="mbit"/> on both ends; null removes the limit.</summary>
    public void SetRate(double? mbit)
    {
        Run("tc", ["qdisc", "del", "dev", HostSide, "root"], allowFailure: true);
        Run("ip", ["netns", "exec", Name, "tc", "qdisc", "del", "dev", NamespaceSide, "root"], allowFailure: true);
        RateMbit = mbit;
        if (mbit is not { } rate)
            return;
        var text = rate.ToString("0.###", CultureInfo.InvariantCulture) + "mbit";
        // A bucket of a few packets: bursts pass at line rate only briefly; 200 ms of queue before drops.
        string[] tbf = ["root", "tbf", "rate", text, "burst", "16kb", "latency", "200ms"];
        Run("tc", ["qdisc", "add", "dev", HostSide, .. tbf]);
        Run("ip", ["netns", "exec", Name, "tc", "qdisc", "add", "dev", NamespaceSide, .. tbf]);
    }

    private static void Run(string file, string[] args, bool allowFailure = false)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {file}");
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 30 s");
        }
        if (process.ExitCode != 0 && !allowFailure)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result.Trim()} (the WAN simulation needs root and iproute2)");
    }

    public void Dispose() => Run("ip", ["netns", "del", Name], allowFailure: true);
}
