using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeNode.Agent.Bench;
using EdgeNode.Agent.Cli;

namespace EdgeNode.Agent.Commands;

/// <summary>
/// `edgenode bench --load`: N concurrent streaming chats against `edgenode serve` (one it starts on the given model, or
/// --url), with errors, time to first token, tokens per second and the server's resident memory over the run.
/// </summary>
public static partial class BenchCommand
{
    private const string LoadHelp = """

        usage: edgenode bench --load (--model M | --url URL) [options]

        Many streaming chats at once against 'edgenode serve'. With --model it starts one on a free loopback port
        with --max-queue set to the number of streams and the rate limits off (a load test is one client sending a
        burst), and samples its resident memory. The table and JSON give errors, p50/p99 time to first token,
        aggregate and per-stream tok/s, and the server's memory before, at peak and after.

          --load             run the load test instead of the speed bench
          --url URL          an already running serve (its base URL, e.g. http://127.0.0.1:8080); its queue and limits apply
          --api-key KEY      the key to send to --url
          --streams N        concurrent streaming chats (default 200)
          --max-tokens N     tokens each chat may generate (default 64)
          --chat-template T  chat format for a model that records none, passed to serve (default llama2)

        """;

    private static int RunLoad(ArgumentReader args)
    {
        var model = args.String("model");
        var url = args.String("url");
        var key = args.String("api-key");
        var streams = args.Int("streams", 200, 1, 10_000);
        var maxTokens = args.Int("max-tokens", 64, 1, 4096);
        var template = args.String("chat-template") ?? "llama2";
        var jsonOut = args.String("json-out");
        var threads = args.String("threads");
        args.RejectUnknown();
        if ((model is null) == (url is null))
            throw new UsageException("bench --load needs either --model M (it starts a serve) or --url URL (a running serve)");

        var log = Console.Error;
        string home = "";
        Process? server = null;
        string settings;
        string servedModel;
        try
        {
            if (model is not null)
            {
                home = Directory.CreateTempSubdirectory("edgenode-load-").FullName;
                (server, url) = StartServe(model, streams, template, threads, home, log);
                settings = $"started by the bench: --max-queue {streams}, --key-rpm 0, --ip-rpm 0, --chat-template {template}";
            }
            else
            {
                settings = "as the server at --url runs (its --max-queue and rate limits apply)";
            }
            var apiBase = url!.TrimEnd('/') + "/v1";
            servedModel = FirstModel(apiBase, key);
            log.WriteLine($"edgenode bench --load: {streams} streaming chats of up to {maxTokens} tokens on {servedModel} at {url}");

            // One chat first, so the model is loaded before the clock starts and "before" is the loaded server's memory.
            var warm = ChatStreamLoad.RunAsync(apiBase, key, servedModel, 1, maxTokens, TimeSpan.FromMinutes(5)).GetAwaiter().GetResult();
            if (!warm[0].Ok)
                throw new InvalidOperationException($"the warm-up chat failed: {warm[0].Error}");
            var rssBefore = server is null ? (long?)null : ResidentBytes(server.Id);
            var timeline = new List<double[]>();
            using var sampling = new CancellationTokenSource();
            var clock = Stopwatch.StartNew();
            var sampler = server is null ? Task.CompletedTask : Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    timeline.Add([Math.Round(clock.Elapsed.TotalSeconds, 2), ResidentBytes(server.Id)]);
                    try { await Task.Delay(100, sampling.Token).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
                }
            });
            var results = ChatStreamLoad.RunAsync(apiBase, key, servedModel, streams, maxTokens, TimeSpan.FromMinutes(30)).GetAwaiter().GetResult();
            var wall = clock.Elapsed.TotalSeconds;
            sampling.Cancel();
            sampler.GetAwaiter().GetResult();
            var rssAfter = server is null ? (long?)null : ResidentBytes(server.Id);

            var ok = results.Where(r => r.Ok).ToList();
            var ttfts = ok.Select(r => r.TtftMs).Order().ToArray();
            var perStream = ok.Where(r => r.TotalMs > r.TtftMs && r.CompletionTokens > 1)
                .Select(r => (r.CompletionTokens - 1) / ((r.TotalMs - r.TtftMs) / 1000)).Order().ToArray();
            var tokens = ok.Sum(r => (long)r.CompletionTokens);
            var report = new LoadReport
            {
                Url = url, Model = servedModel, Streams = streams, MaxTokens = maxTokens, ServerSettings = settings,
                Errors = results.Count - ok.Count, ErrorSamples = [.. results.Where(r => !r.Ok).Select(r => r.Error!).Distinct().Take(5)],
                WallSeconds = Math.Round(wall, 3), CompletionTokens = tokens, AggregateTokS = Math.Round(tokens / wall, 1),
                TtftP50Ms = Math.Round(Percentile(ttfts, 0.50), 1), TtftP99Ms = Math.Round(Percentile(ttfts, 0.99), 1), TtftMaxMs = Math.Round(ttfts.LastOrDefault(), 1),
                PerStreamTokSP50 = Math.Round(Percentile(perStream, 0.50), 1), PerStreamTokSMin = Math.Round(perStream.FirstOrDefault(), 1),
                Modes = results.GroupBy(r => r.Mode ?? "(none)").ToDictionary(g => g.Key, g => g.Count()),
                ServerRssBeforeBytes = rssBefore, ServerRssAfterBytes = rssAfter,
                ServerRssPeakBytes = timeline.Count == 0 ? null : (long)timeline.Max(s => s[1]),
                ServerRssTimeline = timeline,
            };
            PrintLoad(report);
            var path = jsonOut ?? $"bench-load-{servedModel}-{streams}.json";
            File.WriteAllText(path, JsonSerializer.Serialize(report, LoadJsonContext.Default.LoadReport));
            log.WriteLine($"edgenode bench --load: wrote {path}");
            return report.Errors == 0 ? 0 : 1;
        }
        finally
        {
            if (server is not null)
            {
                try { server.Kill(); server.WaitForExit(10_000); } catch (InvalidOperationException) { }
                server.Dispose();
            }
            if (home.Length > 0)
                Directory.Delete(home, recursive: true);
        }
    }

    private static (Process Server, string Url) StartServe(string model, int streams, string template, string? threads, string home, TextWriter log)
    {
        var binary = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell where the edgenode binary is, to start serve; pass --url");
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "serve", "--listen", "127.0.0.1:0", "--model", model, "--max-queue", streams.ToString(CultureInfo.InvariantCulture),
                     "--key-rpm", "0", "--ip-rpm", "0", "--chat-template", template })
            start.ArgumentList.Add(a);
        if (threads is not null)
        {
            start.ArgumentList.Add("--threads");
            start.ArgumentList.Add(threads);
        }
        start.Environment["EDGENODE_HOME"] = home;
        start.Environment.Remove("EDGENODE_API_KEYS");
        var server = Process.Start(start)!;
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new System.Text.StringBuilder();
        server.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (stderr)
                stderr.AppendLine(e.Data);
            if (e.Data.Contains("listening on", StringComparison.Ordinal))
            {
                using var line = JsonDocument.Parse(e.Data);
                listening.TrySetResult(line.RootElement.GetProperty("State").GetProperty("Url").GetString()!);
            }
        };
        server.OutputDataReceived += (_, _) => { };
        server.BeginErrorReadLine();
        server.BeginOutputReadLine();
        log.WriteLine("edgenode bench --load: starting edgenode serve");
        if (!listening.Task.Wait(TimeSpan.FromSeconds(120)))
        {
            server.Kill();
            lock (stderr)
                throw new InvalidOperationException($"edgenode serve did not start listening within 120 s: {stderr}");
        }
        return (server, listening.Task.Result);
    }

    private static string FirstModel(string apiBase, string? key)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, apiBase + "/models");
        if (key is not null)
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var response = http.Send(request);
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"GET {apiBase}/models answered {(int)response.StatusCode}: {text}");
        using var models = JsonDocument.Parse(text);
        return models.RootElement.GetProperty("data")[0].GetProperty("id").GetString()!;
    }

    private static long ResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static void PrintLoad(LoadReport r)
    {
        static string Mb(long? bytes) => bytes is { } b ? (b / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB" : "-";
        var rows = new (string, string)[]
        {
            ("streams", r.Streams.ToString(CultureInfo.InvariantCulture)),
            ("errors", r.Errors.ToString(CultureInfo.InvariantCulture)),
            ("wall time", r.WallSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s"),
            ("completion tokens", r.CompletionTokens.ToString(CultureInfo.InvariantCulture)),
            ("aggregate tok/s", r.AggregateTokS.ToString("0.0", CultureInfo.InvariantCulture)),
            ("TTFT p50", r.TtftP50Ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms"),
            ("TTFT p99", r.TtftP99Ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms"),
            ("per-stream tok/s p50", r.PerStreamTokSP50.ToString("0.0", CultureInfo.InvariantCulture)),
            ("per-stream tok/s min", r.PerStreamTokSMin.ToString("0.0", CultureInfo.InvariantCulture)),
            ("modes", string.Join(", ", r.Modes.Select(m => $"{m.Key} {m.Value}"))),
            ("server RSS before", Mb(r.ServerRssBeforeBytes)),
            ("server RSS peak", Mb(r.ServerRssPeakBytes)),
            ("server RSS after", Mb(r.ServerRssAfterBytes)),
        };
        Console.Out.WriteLine($"| {"load: " + r.Model,-22} | {"",-18} |");
        Console.Out.WriteLine($"|{new string('-', 24)}|{new string('-', 20)}|");
        foreach (var (name, value) in rows)
            Console.Out.WriteLine($"| {name,-22} | {value,18} |");
        foreach (var error in r.ErrorSamples)
            Console.Out.WriteLine($"error: {error}");
    }
}
