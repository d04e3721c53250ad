using System.Reflection;
using EdgeNode.Agent.Cli;
using EdgeNode.Agent.Commands;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.OnnxRuntime;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.Agent;

/// <summary>
/// The `edgenode` verbs. Errors a user can fix print one line naming the problem and the fix, and exit
/// non-zero; a stack trace only with --debug or EDGENODE_DEBUG=1.
/// </summary>
internal static class CommandLine
{
    private const string Usage = """
        usage: edgenode <command> [options]

          generate       run a model on this device and stream its text
          models         convert | list | recipes | pull | synth | export-gguf | eval
          devices        ONNX Runtime version, the execution providers that run, CPU and memory
          bench          prefill/decode speed against node-llama-cpp and the memory-bandwidth bound
          serve          run the node daemon: the OpenAI-compatible HTTP API over local models
          keys           create: a new random API key for serve
          credits        balances, receipts, pool members and contributor links in this node's ledger

        'edgenode <command> --help' describes a command.

        """;

    public static int Run(string[] args)
    {
        var debug = args.Contains("--debug") || Environment.GetEnvironmentVariable("EDGENODE_DEBUG") == "1";
        args = [.. args.Where(a => a != "--debug")];
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            Console.Out.Write(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] is "--version")
        {
            var version = typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            // The SDK appends "+<commit>" when it knows the source revision; the release version is what people compare.
            Console.Out.WriteLine($"edgenode {version.Split('+')[0]}");
            return 0;
        }
        try
        {
            return Dispatch(args[0], args[1..]);
        }
        catch (UsageException e)
        {
            return Fail(e, 2, debug);
        }
        catch (Exception e) when (e is ModelFormatException or OrtLibraryException or OnnxRuntimeException
                                      or ArgumentException or FileNotFoundException or DirectoryNotFoundException
                                      or ContextFullException or InsufficientMemoryException or IOException
                                      or UnauthorizedAccessException or InvalidOperationException
                                      or Models.Hub.ModelPullException or Peers.LlamaCppPeerException)
        {
            return Fail(e, 1, debug);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"edgenode: internal error: {e.GetType().Name}: {e.Message}");
            if (debug)
                Console.Error.WriteLine(e);
            else
                Console.Error.WriteLine("edgenode: run again with --debug for the stack trace");
            return 70;
        }
    }

    private static int Dispatch(string command, string[] rest)
    {
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            Console.Out.Write(HelpFor(command));
            return 0;
        }
        return command switch
        {
            "generate" => GenerateCommand.Run(new ArgumentReader("generate", rest)),
            "models" => ModelsCommand.Run(rest),
            "devices" => DevicesCommand.Run(new ArgumentReader("devices", rest)),
            "bench" => BenchCommand.Run(new ArgumentReader("bench", rest)),
            "serve" => ServeCommand.Run(new ArgumentReader("serve", rest)),
            "keys" => KeysCommand.Run(rest),
            "credits" => CreditsCommand.Run(new ArgumentReader("credits", rest)),
            _ => throw new UsageException($"unknown command '{command}'; commands: generate, models, devices, bench, serve, keys, credits (see 'edgenode --help')"),
        };
    }

    private static string HelpFor(string command) => command switch
    {
        "generate" => GenerateCommand.Help,
        "models" => ModelsCommand.Help,
        "devices" => DevicesCommand.Help,
        "bench" => BenchCommand.Help,
        "serve" => ServeCommand.Help,
        "keys" => KeysCommand.Help,
        "credits" => CreditsCommand.Help,
        _ => Usage,
    };

    private static int Fail(Exception e, int code, bool debug)
    {
        var message = e switch
        {
            ArgumentException { ParamName: not null } arg => arg.Message.Replace($" (Parameter '{arg.ParamName}')", "", StringComparison.Ordinal),
            OnnxRuntimeException ort => OrtErrors.OneLine(ort),
            _ => e.Message,
        };
        Console.Error.WriteLine($"edgenode: error: {message}");
        if (debug)
            Console.Error.WriteLine(e);
        return code;
    }
}
