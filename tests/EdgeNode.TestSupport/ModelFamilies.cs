using EdgeNode.Models;

namespace EdgeNode.TestSupport;

/// <summary>
/// The per-layer shapes of the real models EdgeNode imports, one per family, each cut to <see cref="Layers"/> layers and a
/// <see cref="VocabSize"/>-token vocabulary so a test can run them end to end in seconds. Everything inside a layer —
/// widths, head counts, head size, RoPE base and scaling, norm epsilon, biases, q/k norms, tied classifier — is the real
/// model's, except where a comment says otherwise.
/// </summary>
public static class ModelFamilies
{
    public const int Layers = 2;
    public const int VocabSize = 512;
    public const int Context = 256;

    private static LlamaConfig Shape(int dim, int hidden, int heads, int kvHeads, int headSize, float theta, float eps) =>
        new(dim, hidden, Layers, heads, kvHeads, VocabSize, Context) { HeadSize = headSize, RopeTheta = theta, NormEps = eps };

    /// <summary>Llama 2 layout at TinyLlama-1.1B's shape: 32 heads over 4 KV heads of 64.</summary>
    public static ModelFamily TinyLlama { get; } =
        new("TinyLlama-1.1B", "LlamaForCausalLM", "llama", Shape(2048, 5632, 32, 4, 64, 10000f, 1e-5f), Tied: false);

    /// <summary>Llama 3.2 1B: RoPE base 500000 with Llama-3 scaling, tied classifier, head_dim in config.json.</summary>
    public static ModelFamily Llama32 { get; } =
        new("Llama-3.2-1B", "LlamaForCausalLM", "llama",
            Shape(2048, 8192, 32, 8, 64, 500000f, 1e-5f) with { RopeScaling = new RopeScaling(32f, 1f, 4f, 8192) },
            Tied: true, HeadDimInConfig: true);

    /// <summary>
    /// Mistral-7B-v0.3 with its width and feed-forward cut by 4 (4096 → 1024, 14336 → 3584) to keep the test fast; the head
    /// size stays 128, so 32/8 heads become 8/2. RoPE base 1e6, untied classifier.
    /// </summary>
    public static ModelFamily Mistral { get; } =
        new("Mistral-7B-v0.3 (width / 4)", "MistralForCausalLM", "llama", Shape(1024, 3584, 8, 2, 128, 1_000_000f, 1e-5f), Tied: false);

    /// <summary>Qwen2.5-0.5B: 14 heads over 2 KV heads of 64, q/k/v biases, tied, RoPE base 1e6.</summary>
    public static ModelFamily Qwen25 { get; } =
        new("Qwen2.5-0.5B", "Qwen2ForCausalLM", "qwen2", Shape(896, 4864, 14, 2, 64, 1_000_000f, 1e-6f), Tied: true, Biases: true);

    /// <summary>Qwen3-0.6B: 16 heads over 8 KV heads of 128 on a 1024-wide stream (q is 2048 wide), q/k norms, tied.</summary>
    public static ModelFamily Qwen3 { get; } =
        new("Qwen3-0.6B", "Qwen3ForCausalLM", "qwen3", Shape(1024, 3072, 16, 8, 128, 1_000_000f, 1e-6f), Tied: true, HeadNorms: true,
            HeadDimInConfig: true);

    /// <summary>SmolLM2-135M: 9 heads over 3 KV heads of 64, tied, RoPE base 100000.</summary>
    public static ModelFamily SmolLM2 { get; } =
        new("SmolLM2-135M", "LlamaForCausalLM", "llama", Shape(576, 1536, 9, 3, 64, 100000f, 1e-5f), Tied: true);

    public static IReadOnlyList<ModelFamily> All { get; } = [TinyLlama, Llama32, Mistral, Qwen25, Qwen3, SmolLM2];

    public static ModelFamily Named(string name) =>
        All.FirstOrDefault(f => f.Name == name) ?? throw new ArgumentException($"no family {name}; known: {string.Join(", ", All.Select(f => f.Name))}", nameof(name));
}
