using System.Text.Json.Serialization;

namespace EdgeNode.Models.Recipes;

/// <summary>Source-generated (AOT-safe) reader and writer of recipe files; keys are snake_case.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(ModelRecipe))]
[JsonSerializable(typeof(List<RecipeMeasurement>))]
internal sealed partial class RecipeJsonContext : JsonSerializerContext;
