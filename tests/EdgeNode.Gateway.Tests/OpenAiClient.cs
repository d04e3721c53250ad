using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>The official openai npm client (openai-client.mjs), run by node against a server: steps in, one result per step out.</summary>
public static class OpenAiClient
{
    private static string Script => Path.Combine(AppContext.BaseDirectory, "openai-client.mjs");

    public static JsonArray Run(ServeProcess server, string apiKey, params JsonObject[] steps)
    {
        var input = new JsonObject
        {
            ["baseURL"] = server.ApiBase,
            ["apiKey"] = apiKey,
            ["steps"] = new JsonArray([.. steps]),
        };
        var output = PeerProcess.RunNode(Script, input.ToJsonString(), TimeSpan.FromMinutes(4));
        return JsonNode.Parse(output)!.AsArray();
    }

    public static JsonObject Models() => new() { ["op"] = "models" };

    public static JsonObject Completion(JsonObject parameters, bool stream = false) =>
        new() { ["op"] = "completion", ["stream"] = stream, ["params"] = parameters.DeepClone() };

    public static JsonObject Chat(JsonObject parameters, bool stream = false) =>
        new() { ["op"] = "chat", ["stream"] = stream, ["params"] = parameters.DeepClone() };

    public static JsonObject Parallel(params JsonObject[] steps) => new() { ["op"] = "parallel", ["steps"] = new JsonArray([.. steps]) };
}
