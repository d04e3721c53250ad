using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>Bad requests get OpenAI's status code and error shape through the official client, and the server keeps serving.</summary>
[Collection(ServeCollection.Name)]
public sealed class BadRequestTests(ServeFixture serve)
{
    private static JsonObject Failed(JsonNode? result, int status, string kind, string? code, string? param)
    {
        var step = result!.AsObject();
        Assert.False(step["ok"]!.GetValue<bool>(), $"the request should have failed: {step.ToJsonString()}");
        Assert.Equal(status, step["status"]?.GetValue<int>());
        Assert.Equal(kind, step["kind"]!.GetValue<string>());
        var error = step["error"]!;
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(code, error["code"]?.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        return step;
    }

    private static JsonObject Completion(string prompt, int? maxTokens = null) => new()
    {
        ["model"] = ServeFixture.Model, ["prompt"] = prompt, ["max_tokens"] = maxTokens ?? 4, ["temperature"] = 0,
    };

    [Fact]
    public void EachBadRequestGetsItsStatusAndErrorAndTheServerKeepsServing()
    {
        var golden = GoldenCase.Load(ServeFixture.Model)[0];
        // ~4 tokens a repeat: far past stories260K's 512 positions, far below the body limit.
        var tooLong = string.Concat(Enumerable.Repeat("Once upon a time ", 300));
        // 2 MiB of text: past the default 1 MiB body limit.
        var oversized = new string('a', 2 * 1024 * 1024);
        var steps = new[]
        {
            new JsonObject { ["op"] = "completion", ["params"] = Completion("x"), ["rawBody"] = "{\"model\": \"stories260K\", \"prompt\": " },
            OpenAiClient.Completion(new JsonObject { ["model"] = "no-such-model", ["prompt"] = "Hi" }),
            OpenAiClient.Chat(new JsonObject { ["model"] = "no-such-model", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }) }),
            OpenAiClient.Completion(Completion(tooLong)),
            OpenAiClient.Completion(Completion(golden.Prompt, 0)),
            OpenAiClient.Completion(Completion(golden.Prompt, 100_000)),
            OpenAiClient.Completion(Completion(golden.Prompt, 510)),
            new JsonObject { ["op"] = "completion", ["params"] = Completion(golden.Prompt), ["apiKey"] = "sk-wrong" },
            OpenAiClient.Completion(Completion(oversized)),
            OpenAiClient.Completion(new JsonObject { ["model"] = ServeFixture.Model, ["prompt"] = "Hi", ["temperature"] = 3 }),
            new JsonObject { ["op"] = "completion", ["params"] = Completion("x"), ["rawBody"] = "{\"model\": \"stories260K\", \"prompt\": \"Hi\", \"max_tokens\": \"many\"}" },
            OpenAiClient.Chat(new JsonObject { ["model"] = ServeFixture.Model, ["messages"] = new JsonArray() }),
            // Still serving after all of that, with the right answer.
            OpenAiClient.Completion(new JsonObject { ["model"] = ServeFixture.Model, ["prompt"] = golden.Prompt, ["max_tokens"] = golden.MaxTokens, ["temperature"] = 0 }),
            OpenAiClient.Models(),
        };
        var results = OpenAiClient.Run(serve.Server, ServeFixture.Key, steps);

        Failed(results[0], 400, "BadRequestError", "invalid_json", null);
        var unknown = Failed(results[1], 404, "NotFoundError", "model_not_found", "model");
        Assert.Contains("no-such-model", unknown["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Failed(results[2], 404, "NotFoundError", "model_not_found", "model");
        var context = Failed(results[3], 400, "BadRequestError", "context_length_exceeded", "prompt");
        Assert.Contains("512", context["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Failed(results[4], 400, "BadRequestError", "invalid_value", "max_tokens");
        Failed(results[5], 400, "BadRequestError", "invalid_value", "max_tokens");
        // Within range alone, but the prompt and the completion together do not fit the context.
        Failed(results[6], 400, "BadRequestError", "context_length_exceeded", "prompt");
        Failed(results[7], 401, "AuthenticationError", "invalid_api_key", null);
        var tooLarge = Failed(results[8], 413, "APIError", "request_too_large", null);
        Assert.Contains("1048576", tooLarge["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Failed(results[9], 400, "BadRequestError", "invalid_value", "temperature");
        Failed(results[10], 400, "BadRequestError", "invalid_type", "max_tokens");
        Failed(results[11], 400, "BadRequestError", "invalid_value", "messages");

        var after = results[12]!.AsObject();
        Assert.True(after["ok"]!.GetValue<bool>(), after.ToJsonString());
        Assert.Equal(golden.Text, golden.Prompt + after["response"]!["choices"]![0]!["text"]!.GetValue<string>());
        Assert.True(results[13]!["ok"]!.GetValue<bool>());
    }
}
