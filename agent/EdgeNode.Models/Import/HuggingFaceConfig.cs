using System.Text.Json;

namespace EdgeNode.Models.Import;

/// <summary>The parts of a Hugging Face config.json that shape a Llama-family decoder.</summary>
/// <param name="Family">Which architecture the checkpoint is.</param>
/// <param name="Model">The shape, RoPE base and scaling, norm epsilon.</param>
/// <param name="TieWordEmbeddings">Whether lm_head shares the embedding (tie_word_embeddings).</param>
public sealed record HuggingFaceConfig(HuggingFaceFamily Family, LlamaConfig Model, bool TieWordEmbeddings)
{
    public const string FileName = "config.json";

    public static HuggingFaceConfig Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var fileName = Path.GetFileName(path);
        if (!File.Exists(path))
            throw new ModelFormatException($"{path}: not found; a Hugging Face model folder needs its config.json beside the safetensors files");
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return Parse(fileName, document.RootElement);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{fileName}: not valid JSON ({e.Message}); fetch config.json again", e);
        }
    }

    private static HuggingFaceConfig Parse(string fileName, JsonElement root)
    {
        var architectures = root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(e => e.GetString() ?? "").ToArray()
            : [];
        var architecture = architectures.FirstOrDefault() ?? "(none)";
        var family = architecture switch
        {
            "LlamaForCausalLM" => HuggingFaceFamily.Llama,
            "MistralForCausalLM" => HuggingFaceFamily.Mistral,
            "Qwen2ForCausalLM" => HuggingFaceFamily.Qwen2,
            "Qwen3ForCausalLM" => HuggingFaceFamily.Qwen3,
            _ => throw new ModelFormatException(
                $"{fileName}: architectures = [{string.Join(", ", architectures)}]; expected LlamaForCausalLM, MistralForCausalLM, " +
                "Qwen2ForCausalLM or Qwen3ForCausalLM (SmolLM2 and TinyLlama are LlamaForCausalLM) — this model family is not supported"),
        };

        int Int(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetInt32()
            : throw new ModelFormatException($"{fileName}: key {key} is missing or not a number; expected an integer — fetch config.json again");
        int? OptionalInt(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
        double? OptionalNumber(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        bool OptionalBool(string key, bool fallback) => root.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

        var dim = Int("hidden_size");
        var heads = Int("num_attention_heads");
        var kvHeads = OptionalInt("num_key_value_heads") ?? heads;
        var hidden = Int("intermediate_size");
        var layers = Int("num_hidden_layers");
        var vocab = Int("vocab_size");
        var context = Int("max_position_embeddings");

        if (heads <= 0)
            throw new ModelFormatException($"{fileName}: num_attention_heads = {heads}; expected a positive count — the config is corrupt");
        if (kvHeads <= 0 || heads % kvHeads != 0)
            throw new ModelFormatException($"{fileName}: num_key_value_heads = {kvHeads} does not divide num_attention_heads = {heads}; the config is corrupt");
        // Most families leave the head size implicit (hidden_size / num_attention_heads); Qwen3 states a wider one.
        var headSize = OptionalInt("head_dim") ?? (dim % heads == 0 ? dim / heads
            : throw new ModelFormatException($"{fileName}: num_attention_heads = {heads} does not divide hidden_size = {dim} and there is no head_dim; the config is corrupt"));
        if (headSize <= 0 || headSize % 2 != 0)
            throw new ModelFormatException($"{fileName}: head size {headSize} is not a positive even number, but RoPE rotates pairs; the config is corrupt");
        if (root.TryGetProperty("hidden_act", out var act) && act.GetString() is { } activation && activation != "silu")
            throw new ModelFormatException($"{fileName}: hidden_act = {activation}, expected silu (SwiGLU); this model is not supported");
        if (OptionalBool("mlp_bias", false))
            throw new ModelFormatException($"{fileName}: mlp_bias = true; EdgeNode's feed-forward has no biases — this model is not supported");

        // Sliding-window attention equals full attention while the context fits in the window, so the window bounds
        // the context rather than making the model unusable.
        var slidingWindow = family switch
        {
            HuggingFaceFamily.Mistral => OptionalInt("sliding_window"),
            HuggingFaceFamily.Qwen2 or HuggingFaceFamily.Qwen3 when OptionalBool("use_sliding_window", false) => OptionalInt("sliding_window"),
            _ => null,
        };
        if (slidingWindow is > 0 && slidingWindow < context)
            context = slidingWindow.Value;

        var model = new LlamaConfig(dim, hidden, layers, heads, kvHeads, vocab, context)
        {
            HeadSize = headSize,
            RopeTheta = (float)(OptionalNumber("rope_theta") ?? 10000.0),
            NormEps = (float)(OptionalNumber("rms_norm_eps") ?? 1e-6),
            RopeScaling = root.TryGetProperty("rope_scaling", out var scaling) ? ParseRopeScaling(fileName, scaling) : null,
        };
        return new HuggingFaceConfig(family, model, OptionalBool("tie_word_embeddings", false));
    }

    private static RopeScaling? ParseRopeScaling(string fileName, JsonElement scaling)
    {
        if (scaling.ValueKind == JsonValueKind.Null)
            return null;
        if (scaling.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{fileName}: rope_scaling is JSON {scaling.ValueKind}, expected an object or null; fetch config.json again");
        // Older configs name the kind "type", newer ones "rope_type".
        var kind = scaling.TryGetProperty("rope_type", out var t) || scaling.TryGetProperty("type", out t) ? t.GetString() : null;
        if (kind == "default")
            return null;
        if (kind != "llama3")
        {
            throw new ModelFormatException(
                $"{fileName}: rope_scaling type {kind ?? "(none)"} is not supported; only \"llama3\" scaling is — use a model without it");
        }
        double Number(string key) => scaling.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : throw new ModelFormatException($"{fileName}: rope_scaling.{key} is missing or not a number; llama3 scaling needs factor, low_freq_factor, high_freq_factor, original_max_position_embeddings");
        var result = new RopeScaling((float)Number("factor"), (float)Number("low_freq_factor"), (float)Number("high_freq_factor"),
            (int)Number("original_max_position_embeddings"));
        if (result.Factor <= 0 || result.LowFreqFactor <= 0 || result.HighFreqFactor <= result.LowFreqFactor || result.OriginalMaxPositionEmbeddings <= 0)
        {
            throw new ModelFormatException(
                $"{fileName}: rope_scaling {result} is inconsistent; expected factor > 0, 0 < low_freq_factor < high_freq_factor, " +
                "original_max_position_embeddings > 0 — fetch config.json again");
        }
        return result;
    }
}
