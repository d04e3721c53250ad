using System.Text.RegularExpressions;
using EdgeNode.Agent.Commands;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>
/// `edgenode COMMAND --help` lists every option the command reads, one per line, and nothing it does not read.
/// The options a command reads are taken from its source (every args.Flag/String/Int/… call), so a new
/// option without a help line, or a help line for an option that was removed, fails here.
/// </summary>
public sealed partial class HelpTextTests
{
    private static readonly string[] s_shared = ["Cli/ConversionArguments.cs", "Cli/InferenceArguments.cs"];

    private static readonly string[] s_commands = ["generate", "models", "devices", "bench", "keys", "credits", "pool"];

    public static TheoryData<string> Commands => [.. s_commands];

    private static string HelpOf(string command) => command switch
    {
        "generate" => GenerateCommand.Help,
        "models" => ModelsCommand.Help,
        "devices" => DevicesCommand.Help,
        "bench" => BenchCommand.Help,
        "keys" => KeysCommand.Help,
        "credits" => CreditsCommand.Help,
        "pool" => PoolCommand.Help,
        _ => throw new ArgumentOutOfRangeException(nameof(command)),
    };

    private static string[] SourcesOf(string command) => command switch
    {
        "generate" => ["Commands/GenerateCommand.cs", "Commands/GenerateCommand.Pool.cs", "Commands/GenerateCommand.PoolName.cs", "Cli/ChatArguments.cs", .. s_shared],
        "models" => ["Commands/ModelsCommand.cs", "Commands/ModelsCommand.Recipes.cs", "Commands/ModelsCommand.Synth.cs", "Commands/ModelsCommand.Eval.cs", .. s_shared],
        "devices" => ["Commands/DevicesCommand.cs"],
        "bench" => ["Commands/BenchCommand.cs", "Commands/BenchCommand.Speculative.cs", "Commands/BenchCommand.Load.cs", "Commands/BenchCommand.Pool.cs", .. s_shared],
        "keys" => ["Commands/KeysCommand.cs"],
        "credits" => ["Commands/CreditsCommand.cs"],
        "pool" => ["Commands/PoolCommand.cs"],
        _ => throw new ArgumentOutOfRangeException(nameof(command)),
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void EachOptionHasALineOfItsOwn(string command)
    {
        var help = HelpOf(command);
        Assert.EndsWith("\n", help, StringComparison.Ordinal);   // the shell prompt starts on a line of its own
        var lines = help.Split('\n');
        foreach (var line in lines)
        {
            // Several options in one line: "--a B, --b C" or a bracketed list "[--a] [--b]" (usage lines included).
            Assert.False(TwoOptionsAtTheStart().IsMatch(line), $"{command} --help: several options on one line: '{line.Trim()}'");
            Assert.False(line.Contains("[--", StringComparison.Ordinal), $"{command} --help: options listed inline instead of one per line: '{line.Trim()}'");
        }
        var listed = lines.Select(line => LeadingOption().Match(line)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var read = OptionsReadBy(command);
        Assert.Empty(read.Except(listed));    // read but not described
        Assert.Empty(listed.Except(read));    // described but not read
    }

    [Fact]
    public void KvCachePoolErrorsNameOnlyOptionsThatExist()
    {
        var config = new LlamaConfig(64, 172, 5, 8, 4, 512, 512);
        var messages = new List<string>();
        using (var full = new KvCachePool(1, () => new KvCache(config, 0, 5, 16)))
            messages.Add(Assert.Throws<InsufficientMemoryException>(() => full.Acquire("a")).Message);
        using (var pool = new KvCachePool(50_000, () => new KvCache(config, 0, 5, 16)))   // room for one 40 KiB cache
        {
            using var a = pool.Acquire("a");
            messages.Add(Assert.Throws<InsufficientMemoryException>(() => pool.Acquire("b")).Message);
        }
        var known = s_commands.SelectMany(OptionsReadBy).ToHashSet(StringComparer.Ordinal);
        foreach (var message in messages)
        {
            foreach (Match option in OptionMention().Matches(message))
                Assert.True(known.Contains(option.Groups[1].Value), $"'{message}' names --{option.Groups[1].Value}, which no command has");
        }
    }

    private static HashSet<string> OptionsReadBy(string command)
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "agent", "EdgeNode.Agent");
        var read = SourcesOf(command)
            .SelectMany(file => OptionRead().Matches(File.ReadAllText(Path.Combine(folder, file))))
            .Select(m => m.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);
        // ConversionArguments reads --chat-template only for models convert (readChatTemplate: true); bench reads it
        // for --load (the format it passes to the serve it starts), so it is listed there.
        return read;
    }

    [GeneratedRegex(@"^\s*--[a-z0-9-]+(\s+\S+)?,\s*--")]
    private static partial Regex TwoOptionsAtTheStart();

    [GeneratedRegex(@"^\s+--([a-z0-9-]+)")]
    private static partial Regex LeadingOption();

    [GeneratedRegex(@"\.(?:Flag|String|Required|Int|Float|ULong)\(""([a-z0-9-]+)""")]
    private static partial Regex OptionRead();

    [GeneratedRegex(@"--([a-z0-9-]+)")]
    private static partial Regex OptionMention();
}
