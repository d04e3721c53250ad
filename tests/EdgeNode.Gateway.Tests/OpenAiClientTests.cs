using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>The official openai npm client against a real `edgenode serve`: models, completions and chat, whole and streamed.</summary>
[Collection(ServeCollection.Name)]
public sealed class OpenAiClientTests(ServeFixture serve)
{
    private static JsonObject Ok(JsonNode? result)
    {
        var step = result!.AsObject();
        Assert.True(step["ok"]!.GetValue<bool>(), $"the step failed: {step.ToJsonString()}");
        return step;
    }

    [Fact]
    public void ModelsListNamesTheServedModel()
    {
        var result = Ok(OpenAiClient.Run(serve.Server, ServeFixture.Key, OpenAiClient.Models())[0]);
        var model = Assert.Single(result["models"]!.AsArray())!;
        Assert.Equal(ServeFixture.Model, model["id"]!.GetValue<string>());
        Assert.Equal("model", model["object"]!.GetValue<string>());
        Assert.Equal("edgenode", model["owned_by"]!.GetValue<string>());
    }

    [Fact]
    public void GreedyCompletionsEqualTheGoldenContinuations()
    {
        // Every case with an ASCII prompt: the reference prints a non-ASCII prompt's byte pieces differently.
        var cases = GoldenCase.Load(ServeFixture.Model).Where(c => c.Prompt.All(char.IsAscii)).ToList();
        var steps = cases.Select(c => OpenAiClient.Completion(GreedyCompletion(c))).ToList();
        steps.Add(OpenAiClient.Completion(GreedyCompletion(cases[0]), stream: true));
        var results = OpenAiClient.Run(serve.Server, ServeFixture.Key, [.. steps]);

        for (var i = 0; i < cases.Count; i++)
        {
            var response = Ok(results[i])["response"]!;
            Assert.Equal("text_completion", response["object"]!.GetValue<string>());
            Assert.Equal(ServeFixture.Model, response["model"]!.GetValue<string>());
            var choice = response["choices"]![0]!;
            Assert.Equal(cases[i].Text, cases[i].Prompt + choice["text"]!.GetValue<string>());
            Assert.Equal(cases[i].PromptTokens.Length, response["usage"]!["prompt_tokens"]!.GetValue<int>());
            Assert.Equal(cases[i].Tokens.Length, response["usage"]!["completion_tokens"]!.GetValue<int>());
            Assert.Equal(cases[i].PromptTokens.Length + cases[i].Tokens.Length, response["usage"]!["total_tokens"]!.GetValue<int>());
            // The reference stops at max_tokens or before BOS: "length" exactly when it used every step.
            Assert.Equal(cases[i].Tokens.Length == cases[i].MaxTokens ? "length" : "stop", choice["finish_reason"]!.GetValue<string>());
        }
        var streamed = Ok(results[cases.Count]);
        Assert.Equal(cases[0].Text, cases[0].Prompt + streamed["text"]!.GetValue<string>());
        Assert.True(streamed["chunks"]!.GetValue<int>() > 10, "the text came in one piece, not streamed");
        Assert.Equal("length", streamed["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public void StreamedUsageMatchesTheWholeAnswer()
    {
        var golden = GoldenCase.Load(ServeFixture.Model)[0];
        var parameters = new JsonObject
        {
            ["model"] = ServeFixture.Model, ["prompt"] = golden.Prompt, ["max_tokens"] = 40, ["temperature"] = 0,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        var streamed = Ok(OpenAiClient.Run(serve.Server, ServeFixture.Key, OpenAiClient.Completion(parameters, stream: true))[0]);
        Assert.Equal(golden.PromptTokens.Length, streamed["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(40, streamed["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.StartsWith(streamed["text"]!.GetValue<string>(), golden.Text[golden.Prompt.Length..], StringComparison.Ordinal);
    }

    [Fact]
    public void ChatAnswersWholeAndStreamedAlike()
    {
        var parameters = new JsonObject
        {
            ["model"] = ServeFixture.Model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "You tell short stories." },
                new JsonObject { ["role"] = "user", ["content"] = "Tell me about a cat." }),
            ["max_tokens"] = 30,
            ["temperature"] = 0,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        var results = OpenAiClient.Run(serve.Server, ServeFixture.Key, OpenAiClient.Chat(parameters), OpenAiClient.Chat(parameters, stream: true));
        var whole = Ok(results[0])["response"]!;
        Assert.Equal("chat.completion", whole["object"]!.GetValue<string>());
        var message = whole["choices"]![0]!["message"]!;
        Assert.Equal("assistant", message["role"]!.GetValue<string>());
        var text = message["content"]!.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(text));
        var streamed = Ok(results[1]);
        Assert.Equal(text, streamed["text"]!.GetValue<string>());
        Assert.Equal("assistant", streamed["role"]!.GetValue<string>());
        Assert.Equal(whole["choices"]![0]!["finish_reason"]!.GetValue<string>(), streamed["finishReason"]!.GetValue<string>());
        Assert.Equal(whole["usage"]!["prompt_tokens"]!.GetValue<int>(), streamed["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(whole["usage"]!["completion_tokens"]!.GetValue<int>(), streamed["usage"]!["completion_tokens"]!.GetValue<int>());
        // A longer conversation renders longer: the messages reached the template.
        Assert.True(whole["usage"]!["prompt_tokens"]!.GetValue<int>() > 15);
    }

    [Fact]
    public void StopSequencesCutTheTextWhereTheyFirstAppear()
    {
        var golden = GoldenCase.Load(ServeFixture.Model)[0];
        var continuation = golden.Text[golden.Prompt.Length..];
        const string stop = "Lily";
        var expected = continuation[..continuation.IndexOf(stop, StringComparison.Ordinal)];
        var parameters = new JsonObject
        {
            ["model"] = ServeFixture.Model, ["prompt"] = golden.Prompt, ["max_tokens"] = 100, ["temperature"] = 0,
            ["stop"] = new JsonArray("never-appears", stop),
        };
        var results = OpenAiClient.Run(serve.Server, ServeFixture.Key, OpenAiClient.Completion(parameters), OpenAiClient.Completion(parameters, stream: true));
        var choice = Ok(results[0])["response"]!["choices"]![0]!;
        Assert.Equal(expected, choice["text"]!.GetValue<string>());
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal(expected, Ok(results[1])["text"]!.GetValue<string>());
    }

    [Fact]
    public void ASeedRepeatsASampledAnswerAndAnotherSeedChangesIt()
    {
        JsonObject Sampled(long seed) => OpenAiClient.Completion(new JsonObject
        {
            ["model"] = ServeFixture.Model, ["prompt"] = "Once upon a time", ["max_tokens"] = 60, ["temperature"] = 1.0, ["top_p"] = 0.9, ["seed"] = seed,
        });
        var results = OpenAiClient.Run(serve.Server, ServeFixture.SecondKey, Sampled(7), Sampled(7), Sampled(8));
        string Text(int i) => Ok(results[i])["response"]!["choices"]![0]!["text"]!.GetValue<string>();
        Assert.Equal(Text(0), Text(1));
        Assert.NotEqual(Text(0), Text(2));
    }

    [Fact]
    public void ConcurrentRequestsToOneModelAreQueuedAndEachAnswered()
    {
        var golden = GoldenCase.Load(ServeFixture.Model)[0];
        var steps = Enumerable.Range(0, 6).Select(i => OpenAiClient.Completion(GreedyCompletion(golden), stream: i % 2 == 0)).ToArray();
        var answers = Ok(OpenAiClient.Run(serve.Server, ServeFixture.Key, OpenAiClient.Parallel(steps))[0])["answers"]!.AsArray();
        Assert.Equal(6, answers.Count);
        for (var i = 0; i < answers.Count; i++)
        {
            var answer = Ok(answers[i]);
            var text = i % 2 == 0 ? answer["text"]! : answer["response"]!["choices"]![0]!["text"]!;
            Assert.Equal(golden.Text, golden.Prompt + text.GetValue<string>());
        }
    }

    private static JsonObject GreedyCompletion(GoldenCase golden) => new()
    {
        ["model"] = ServeFixture.Model, ["prompt"] = golden.Prompt, ["max_tokens"] = golden.MaxTokens, ["temperature"] = 0,
    };
}
