using System.Security.Cryptography;
using EdgeNode.Agent.Cli;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode keys create`: a new random API key for `edgenode serve`.</summary>
public static class KeysCommand
{
    public const string Prefix = "sk-edgenode-";

    /// <summary>URL-safe, so a key can go in a header, a URL or a shell line without quoting; 64 symbols, 6 bits each.</summary>
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>32 symbols: 192 random bits, beyond guessing even without the rate limits.</summary>
    public const int RandomLength = 32;

    public const string Help = """
        usage: edgenode keys create [options]

        Prints a new random API key on stdout (alone, so KEY=$(edgenode keys create) takes just the key), and on
        stderr how to give it to 'edgenode serve'. Nothing is stored: the key is only in what this prints.

          --name NAME        a label for the key, shown in the settings line printed (letters, digits, '-', '_', '.')

        """;

    public static int Run(string[] rest)
    {
        if (rest.Length == 0 || rest[0] != "create")
            throw new UsageException(rest.Length == 0
                ? "edgenode keys needs a subcommand: create (see 'edgenode keys --help')"
                : $"unknown keys subcommand '{rest[0]}'; the one there is: create");
        var args = new ArgumentReader("keys create", rest[1..]);
        var name = args.String("name");
        args.RejectUnknown();
        if (name is not null && (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new UsageException($"--name '{name}' may hold only letters, digits, '-', '_' and '.'");

        var key = Prefix + RandomNumberGenerator.GetString(Alphabet, RandomLength);
        Console.Out.WriteLine(key);
        var label = name is null ? "" : $" // {name}";
        Console.Error.WriteLine($"""

            Give this key to 'edgenode serve' in one of two ways (several keys: comma-separated, or more list items):
              environment:    EDGENODE_API_KEYS={key}
              settings file:  "api_keys": ["{key}"]{label}
            Clients send it as 'Authorization: Bearer {key}' (the OpenAI clients' api_key).
            """);
        return 0;
    }
}
