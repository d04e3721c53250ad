using EdgeNode.Agent.Bench;
using EdgeNode.Agent.Cli;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode models eval`: quality against speed and memory, one row per precision.</summary>
public static partial class ModelsCommand
{
    private static int Eval(ArgumentReader args)
    {
        var model = args.Required("model", "<dir|checkpoint|name>");
        var textPath = args.Required("text", "FILE");
        var tokenizer = args.String("tokenizer");
        var window = args.Int("window", 0, 0);
        var precisions = ParsePrecisions(args.String("precision") ?? "fp32,int8,int4");
        var decodeTokens = args.Int("tokens", 64, 2, 8192);
        var label = args.String("label");
        var jsonOut = args.String("json-out");
        var (conversion, _) = ConversionArguments.Read(args, readPrecision: false);
        var inference = InferenceArguments.Read(args);
        args.RejectUnknown();
        if (!File.Exists(textPath))
            throw new FileNotFoundException($"evaluation text {textPath} not found");
        var report = QualityTable.Measure(new QualityTable.Request(model, tokenizer, precisions, conversion, inference, textPath, window, decodeTokens, label), Console.Error);
        QualityTable.Print(report, Console.Out);
        if (jsonOut is not null)
        {
            QualityTable.Write(report, jsonOut);
            Console.Out.WriteLine($"json: {jsonOut}");
        }
        return 0;
    }

    private static List<WeightPrecision> ParsePrecisions(string text)
    {
        var list = new List<WeightPrecision>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                list.Add(WeightPrecisionNames.Parse(part));
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--precision: {e.Message}");
            }
        }
        return list.Count > 0 ? list : throw new UsageException("--precision needs at least one of fp32, int8, int4 (comma-separated)");
    }
}
