using EdgeNode.Models.Chat;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Agent.Cli;

/// <summary>
/// The conversion options shared by generate, bench and models convert: --precision, --block-size, --accuracy-level,
/// --asymmetric, --awq, --kv-precision.
/// </summary>
public static class ConversionArguments
{
    public const string Help = """
          --precision P      fp32 | int8 | int4 when converting a checkpoint (default fp32)
          --block-size B     quantization block along K, a power of two 16..256 (default: int8 128, int4 64)
          --accuracy-level A MatMulNBits accuracy level: 4 = int8 activations (default), 0 = float activations
          --asymmetric       int8/int4: quantize each block over its [min, max] with a zero point (default: symmetric)
          --awq FILE         int8/int4: activation-aware scaling calibrated on the text in FILE (text like what the model will read)
          --kv-precision K   fp16 | fp32 KV cache (default: fp16 for int4, half the memory per position; fp32 otherwise)

        """;

    /// <summary>The options, and the precision the user asked for (null when --precision was not given).</summary>
    /// <param name="readPrecision">False for commands that read --precision themselves (a list, in models eval).</param>
    /// <param name="readChatTemplate">
    /// True for models convert, where --chat-template is the format recorded in the manifest; generate reads the same
    /// option as the format of its --chat prompt.
    /// </param>
    public static (ConversionOptions Options, WeightPrecision? Requested) Read(ArgumentReader args, bool readPrecision = true, bool readChatTemplate = false)
    {
        var precisionText = readPrecision ? args.String("precision") : null;
        WeightPrecision? requested = null;
        if (precisionText is not null)
        {
            try
            {
                requested = WeightPrecisionNames.Parse(precisionText);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--precision: {e.Message}");
            }
        }
        var blockSizeArg = args.Int("block-size", 0, 0, 256);
        int? blockSize = blockSizeArg == 0 ? null : blockSizeArg;
        if (blockSize is { } b && (b < 16 || (b & (b - 1)) != 0))
            throw new UsageException($"--block-size {blockSize} is not a power of two (16, 32, 64, 128, 256)");
        var accuracyLevel = args.Int("accuracy-level", 4, 0, 4);
        var asymmetric = args.Flag("asymmetric");
        var calibration = args.String("awq");
        // Checked here so a wrong path fails before the weights are read, which can take minutes.
        if (calibration is not null && !File.Exists(calibration))
            throw new UsageException($"--awq {calibration}: calibration text not found; pass a text file like what the model will read");
        if (calibration is not null && new FileInfo(calibration).Length == 0)
            throw new UsageException($"--awq {calibration}: the calibration text is empty");
        var kvText = args.String("kv-precision");
        KvPrecision? kvPrecision = null;
        if (kvText is not null)
        {
            try
            {
                kvPrecision = KvPrecisionNames.Parse(kvText);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--kv-precision: {e.Message}");
            }
        }
        var chatTemplate = readChatTemplate ? args.String("chat-template") : null;
        if (chatTemplate is not null)
        {
            try
            {
                // The registry's spelling goes into the manifest, whatever case was typed.
                chatTemplate = ChatTemplates.Get(chatTemplate).Name;
            }
            catch (ChatTemplateException e)
            {
                throw new UsageException($"--chat-template: {e.Message}");
            }
        }
        var options = new ConversionOptions
        {
            Precision = requested ?? WeightPrecision.Fp32, BlockSize = blockSize, AccuracyLevel = accuracyLevel,
            Asymmetric = asymmetric, CalibrationTextPath = calibration, ChatTemplate = chatTemplate, KvPrecision = kvPrecision,
        };
        return (options, requested);
    }
}
