using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Speculative;
using EdgeNode.Models.Tokenizers;
using EdgeNode.TestSupport;

namespace EdgeNode.Verifier.Tests;

/// <summary>
/// The verifier inside a real `edgenode serve`: each kind of bad input gets its status and a message naming what was
/// wrong, and the server goes on serving; greedy generation over HTTP equals the target's own and survives a restart
/// of the verifier mid-stream; `edgenode generate --verifier` reports the speculative fields.
/// </summary>
[Collection(PairModelsCollection.Name)]
public sealed class VerifierServeTests(PairModels models) : IDisposable
{
    private readonly TempDirectory _home = TestPaths.NewTempDirectory("verifier-home");

    private static readonly string s_stories = TestPaths.Model("stories260K");

    public void Dispose() => _home.Dispose();

    private static async Task<(int Status, JsonNode? Body)> PostAsync(HttpClient http, string url, string body, bool key = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", VerifierServe.Key);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static void AssertError((int Status, JsonNode? Body) answer, int status, string code, string mentions)
    {
        Assert.True(answer.Status == status, $"expected {status} {code}, got {answer.Status}: {answer.Body?.ToJsonString()}");
        Assert.Equal(code, answer.Body!["error"]!["code"]!.GetValue<string>());
        Assert.Contains(mentions, answer.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachBadInputGetsItsStatusAndTheVerifierKeepsServing()
    {
        var target = models.Get("stories260K");
        var fingerprint = TokenizerFingerprint.Of(target.Tokenizer);
        var otherTokenizer = TokenizerFingerprint.Of(Llama2cTokenizer.Load(TestPaths.Model("llama2-tokenizer", "tokenizer.bin"), 32000));
        Assert.NotEqual(fingerprint, otherTokenizer);
        using var serve = VerifierServe.Start(_home.Path, 0, s_stories);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var sessions = serve.Url + "/v1/verifier/sessions";
        string Open(string extra) => $"{{\"model\":\"stories260K\",\"tokenizer\":\"{fingerprint}\",\"temperature\":0,{extra}}}";

        var noKey = await PostAsync(http, sessions, Open("\"tokens\":[1]"), key: false);
        Assert.Equal(401, noKey.Status);
        AssertError(await PostAsync(http, sessions, Open("\"tokens\":[1, 512, 3]")), 400, "token_out_of_vocabulary", "512");
        AssertError(await PostAsync(http, sessions, Open("\"tokens\":[1, -4]")), 400, "token_out_of_vocabulary", "-4");
        AssertError(await PostAsync(http, sessions, $"{{\"model\":\"stories260K\",\"tokenizer\":\"{otherTokenizer}\",\"tokens\":[1]}}"), 409, "tokenizer_mismatch", otherTokenizer);
        AssertError(await PostAsync(http, sessions, "{\"model\":\"stories260K\",\"tokens\":[1]}"), 409, "tokenizer_mismatch", fingerprint);
        AssertError(await PostAsync(http, sessions, Open("\"tokens\":[1]").Replace("stories260K", "no-such-model", StringComparison.Ordinal)), 404, "model_not_found", "no-such-model");
        AssertError(await PostAsync(http, sessions, "{\"model\":\"stories260K\",\"tokens\":[1,"), 400, "invalid_json", "not valid JSON");
        AssertError(await PostAsync(http, sessions + "/vs_0000/verify", "{\"draft\":[]}"), 404, "session_not_found", "vs_0000");

        var opened = await PostAsync(http, sessions, Open("\"prompt\":\"Once upon a time\""));
        Assert.Equal(201, opened.Status);
        var id = opened.Body!["session"]!.GetValue<string>();
        Assert.Equal(target.Tokenizer.Encode("Once upon a time"), opened.Body["tokens"]!.AsArray().Select(t => t!.GetValue<int>()));
        var verify = sessions + "/" + id + "/verify";
        var tooLong = "{\"draft\":[" + string.Join(',', Enumerable.Repeat(5, VerifierOptions.DefaultMaxDraftTokens + 1)) + "]}";
        AssertError(await PostAsync(http, verify, tooLong), 400, "draft_too_long", $"at most {VerifierOptions.DefaultMaxDraftTokens}");
        AssertError(await PostAsync(http, verify, "{\"draft\":[5, 9999]}"), 400, "token_out_of_vocabulary", "9999");
        AssertError(await PostAsync(http, verify, "{\"draft\":[5], \"draft_distributions\":[]}"), 400, "invalid_draft", "one per draft token");
        AssertError(await PostAsync(http, verify, "{\"draft\":[\"five\"]}"), 400, "invalid_type", "draft[0]");

        // Still serving: a round on the same session goes through after every refusal.
        var round = await PostAsync(http, verify, "{\"draft\":[]}");
        Assert.Equal(200, round.Status);
        Assert.Equal(0, round.Body!["accepted"]!.GetValue<int>());

        // The idle timeout (2 s here): past it the session is gone, and the answer says it expired.
        (int Status, JsonNode? Body) late = default;
        for (var attempt = 0; attempt < 40; attempt++)
        {
            await Task.Delay(250);
            late = await PostAsync(http, verify, "{\"draft\":[]}");
            if (late.Status != 200)
                break;
            // A round resets the idle clock: stop sending and just wait out the timeout.
            await Task.Delay(2500);
        }
        AssertError(late, 410, "session_expired", "expired");

        // And a whole greedy generation afterwards matches the target's own.
        var options = new GenerationOptions { MaxTokens = 80, Sampling = SamplingOptions.Greedy };
        var prompt = target.Tokenizer.Encode("Lily and Ben");
        var reference = new TextGenerator(target).Generate(prompt, options);
        using var drafter = new ModelDrafter(models.Get("llama2xs-tok512-280K"), SamplingOptions.Greedy, 512, "llama2xs");
        using var remote = new RemoteVerifierSession(serve.Url, "stories260K", fingerprint, SamplingOptions.Greedy, VerifierServe.Key);
        var result = new SpeculativeGenerator(target.Tokenizer).Generate(prompt, options, drafter, remote, new DraftLengthController(32));
        Assert.Equal(reference.Tokens, result.Generation.Tokens);
        Assert.True(result.Accepted > 0);
        Assert.False(serve.HasExited);
    }

    [Fact]
    public void AVerifierRestartLosesNoAcceptedToken()
    {
        var target = models.Get("stories260K");
        var fingerprint = TokenizerFingerprint.Of(target.Tokenizer);
        var options = new GenerationOptions { MaxTokens = 200, Sampling = SamplingOptions.Greedy };
        var prompt = target.Tokenizer.Encode("Once upon a time");
        var reference = new TextGenerator(target).Generate(prompt, options);

        var serve = VerifierServe.Start(_home.Path, 0, s_stories);
        var port = serve.Port;
        var restarted = false;
        try
        {
            using var drafter = new ModelDrafter(models.Get("llama2xs-tok512-280K"), SamplingOptions.Greedy, 512, "llama2xs");
            using var remote = new RemoteVerifierSession(serve.Url, "stories260K", fingerprint, SamplingOptions.Greedy, VerifierServe.Key);
            var streamed = new StringBuilder();
            var result = new SpeculativeGenerator(target.Tokenizer).Generate(prompt, options, drafter, remote, new DraftLengthController(32), piece =>
            {
                streamed.Append(piece);
                if (restarted || streamed.Length < 60)
                    return;
                // Mid-stream: the verifier dies (its sessions with it) and comes back on the same port.
                restarted = true;
                serve.Dispose();
                serve = VerifierServe.Start(_home.Path, port, s_stories);
            }, reopenDelay: _ => TimeSpan.FromMilliseconds(100));
            Assert.True(restarted);
            Assert.True(result.Reopens >= 1, "the session was never reopened");
            Assert.Equal(reference.Tokens, result.Generation.Tokens);
            Assert.Equal(reference.Text, streamed.ToString());
        }
        finally
        {
            serve.Dispose();
        }
    }

    [Fact]
    public void GenerateWithVerifierPrintsTheTargetsTokensAndTheSpeculativeFields()
    {
        using var serve = VerifierServe.Start(_home.Path, 0, s_stories);
        var environment = new Dictionary<string, string?> { ["EDGENODE_HOME"] = _home.Path, ["EDGENODE_API_KEY"] = VerifierServe.Key };
        string[] common = ["generate", "--model", s_stories, "--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "60", "--threads", "1", "--json"];
        var local = AgentBinary.Run(common, environment);
        Assert.True(local.ExitCode == 0, local.Stderr);
        var expected = JsonNode.Parse(local.Stdout)!["tokens"]!.AsArray().Select(t => t!.GetValue<int>()).ToArray();
        foreach (var draft in new[] { TestPaths.Model("llama2xs-tok512-280K", "model.bin"), "ngram", "self-int4", "self-layers:2" })
        {
            var run = AgentBinary.Run([.. common, "--verifier", serve.Url, "--draft", draft, "--tokenizer", PairModels.Tokenizer], environment);
            Assert.True(run.ExitCode == 0, $"--draft {draft}: {run.Stderr}");
            var report = JsonNode.Parse(run.Stdout)!;
            Assert.Equal(expected, report["tokens"]!.AsArray().Select(t => t!.GetValue<int>()));
            foreach (var field in new[] { "accept_rate", "tokens_per_round", "draft_length" })
                Assert.True(report[field] is not null, $"--json lacks {field}: {run.Stdout}");
            Assert.True(report["tokens_per_round"]!.GetValue<double>() >= 1);
        }
    }
}
