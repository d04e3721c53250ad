using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// Two real nodes: A serves stories260K (and so verifies for it); B cannot hold stories260K (a 100 KB memory budget)
/// but drafts with llama2xs-tok512-280K (the same tok512 tokenizer) and has A verify. B's greedy answer is the target's
/// own golden continuation, served in speculative mode; with A gone, B's error names the verifier it cannot reach.
/// </summary>
public sealed class SpeculativeModeTests
{
    [Fact]
    public async Task ANodeTooSmallForTheModelServesItThroughARemoteVerifier()
    {
        using var homeA = TestPaths.NewTempDirectory("spec-mode-a");
        using var homeB = TestPaths.NewTempDirectory("spec-mode-b");
        // The draft as a llama2.c folder: its checkpoint beside the tokenizer it shares with stories260K.
        var draft = Directory.CreateDirectory(Path.Combine(homeB.Path, "llama2xs-tok512-280K")).FullName;
        File.CreateSymbolicLink(Path.Combine(draft, "llama2xs-tok512-280K.bin"), TestPaths.Model("llama2xs-tok512-280K", "model.bin"));
        File.CreateSymbolicLink(Path.Combine(draft, "tok512.bin"), TestPaths.Model("stories260K", "tok512.bin"));

        ServeProcess? a = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--threads", "1"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = homeA.Path });
        try
        {
            using var b = ServeProcess.Start(
                ["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--threads", "1", "--memory", "100000",
                 "--verifier-url", a.BaseUrl, "--draft", draft],
                new Dictionary<string, string?> { ["EDGENODE_HOME"] = homeB.Path });
            var golden = GoldenCase.Load("stories260K")[0];
            var parameters = new JsonObject
            {
                ["model"] = "stories260K", ["prompt"] = golden.Prompt, ["max_tokens"] = golden.MaxTokens, ["temperature"] = 0,
                ["stream_options"] = new JsonObject { ["include_usage"] = true },
            };
            var whole = (JsonObject)parameters.DeepClone();
            whole.Remove("stream_options");
            var results = OpenAiClient.Run(b, "no-key-needed", OpenAiClient.Completion(whole), OpenAiClient.Completion(parameters, stream: true));

            var answer = results[0]!.AsObject();
            Assert.True(answer["ok"]!.GetValue<bool>(), answer.ToJsonString());
            var response = answer["response"]!;
            Assert.Equal(golden.Text, golden.Prompt + response["choices"]![0]!["text"]!.GetValue<string>());
            Assert.Equal("speculative", response["usage"]!["edgenode_mode"]!.GetValue<string>());
            Assert.Equal(golden.PromptTokens.Length, response["usage"]!["prompt_tokens"]!.GetValue<int>());
            var streamed = results[1]!.AsObject();
            Assert.True(streamed["ok"]!.GetValue<bool>(), streamed.ToJsonString());
            Assert.Equal(golden.Text, golden.Prompt + streamed["text"]!.GetValue<string>());
            Assert.Equal("speculative", streamed["usage"]!["edgenode_mode"]!.GetValue<string>());

            using var http = new HttpClient { BaseAddress = new Uri(b.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
            var small = new JsonObject { ["model"] = "stories260K", ["prompt"] = golden.Prompt, ["max_tokens"] = 3, ["temperature"] = 0 }.ToJsonString();
            using (var raw = await http.PostAsync("/v1/completions", new StringContent(small, Encoding.UTF8, "application/json")))
            {
                Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
                Assert.Equal("speculative", Assert.Single(raw.Headers.GetValues("EdgeNode-Mode")));
            }

            var verifierUrl = a.BaseUrl;
            a.Dispose();
            a = null;
            // B trusts its last look at the verifier for a few seconds (a request inside that window would spend its
            // reopen attempts on the dead verifier); past it, the picker looks again and finds A gone.
            await Task.Delay(TimeSpan.FromSeconds(4));
            string? message = null;
            for (var attempt = 0; attempt < 20 && message is null; attempt++)
            {
                using var raw = await http.PostAsync("/v1/completions", new StringContent(small, Encoding.UTF8, "application/json"));
                if (raw.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    var error = JsonNode.Parse(await raw.Content.ReadAsStringAsync())!["error"]!;
                    if (error["code"]!.GetValue<string>() == "no_serving_mode")
                        message = error["message"]!.GetValue<string>();
                }
                if (message is null)
                    await Task.Delay(500);
            }
            Assert.NotNull(message);
            Assert.Contains($"the verifier at {verifierUrl} cannot be reached", message, StringComparison.Ordinal);
            Assert.Contains("does not fit this node's 100 KB memory budget", message, StringComparison.Ordinal);
        }
        finally
        {
            a?.Dispose();
        }
    }
}
