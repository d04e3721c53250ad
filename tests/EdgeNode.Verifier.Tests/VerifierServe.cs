using EdgeNode.TestSupport;

namespace EdgeNode.Verifier.Tests;

/// <summary>
/// A real `edgenode serve` (the NativeAOT binary) with the verifier on its listener, on the given port (0 picks one),
/// with one API key and no rate limits; <see cref="Dispose"/> kills it (SIGKILL), as a crash would.
/// </summary>
public sealed class VerifierServe : IDisposable
{
    public const string Key = "sk-edgenode-verifier-test";

    private readonly ServeProcess _serve;

    private VerifierServe(ServeProcess serve) => _serve = serve;

    public string Url => _serve.BaseUrl;

    public int Port => new Uri(Url).Port;

    public string Stderr => _serve.Stderr;

    public bool HasExited => _serve.HasExited;

    public static VerifierServe Start(string home, int port, params string[] models) =>
        new(ServeProcess.Start(
            ["--listen", $"127.0.0.1:{port}", "--threads", "1", "--verifier-idle", "2", "--ip-rpm", "0", "--key-rpm", "0",
             .. models.SelectMany(m => new[] { "--model", m })],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home, ["EDGENODE_API_KEYS"] = Key }));

    public void Dispose()
    {
        _serve.KillHard();
        _serve.Dispose();
    }
}
