namespace EdgeNode.Models.Import;

/// <summary>The Hugging Face architectures (config.json "architectures") EdgeNode can import.</summary>
public enum HuggingFaceFamily
{
    /// <summary>LlamaForCausalLM: Llama 2/3, TinyLlama, SmolLM2 (tied classifier).</summary>
    Llama,

    /// <summary>MistralForCausalLM: Llama layout; sliding-window attention bounds the usable context.</summary>
    Mistral,

    /// <summary>Qwen2ForCausalLM: Llama layout plus q/k/v projection biases.</summary>
    Qwen2,

    /// <summary>Qwen3ForCausalLM: Llama layout plus a per-head RMSNorm on queries and keys before RoPE, and an explicit head_dim.</summary>
    Qwen3,
}
