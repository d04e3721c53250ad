using System.Globalization;

namespace EdgeNode.Agent.Cli;

/// <summary>
/// Reads `--name value`, `--name=value` and `--flag` options and positional arguments of one command.
/// Every option a command reads is remembered, so anything left over is reported by name.
/// </summary>
public sealed class ArgumentReader
{
    private readonly string _command;
    private readonly List<string> _positionals = [];
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string?>> _repeated = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public ArgumentReader(string command, IEnumerable<string> args)
    {
        _command = command;
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var arg = list[i];
            if (arg == "--")
            {
                _positionals.AddRange(list.Skip(i + 1));
                break;
            }
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var eq = arg.IndexOf('=', StringComparison.Ordinal);
                var (name, value) = eq > 0 ? (arg[2..eq], arg[(eq + 1)..])
                    : i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal) ? (arg[2..], list[++i])
                    : (arg[2..], (string?)null);
                _options[name] = value;
                if (!_repeated.TryGetValue(name, out var values))
                    _repeated[name] = values = [];
                values.Add(value);
            }
            else
            {
                _positionals.Add(arg);
            }
        }
    }

    public IReadOnlyList<string> Positionals => _positionals;

    public bool Flag(string name)
    {
        _read.Add(name);
        if (!_options.TryGetValue(name, out var value))
            return false;
        if (value is null)
            return true;
        // A flag followed by a positional was read as a value: give the positional back.
        if (value is "true" or "false")
            return value == "true";
        _positionals.Add(value);
        _options[name] = null;
        return true;
    }

    public string? String(string name)
    {
        _read.Add(name);
        if (!_options.TryGetValue(name, out var value))
            return null;
        return value ?? throw new UsageException($"--{name} needs a value (edgenode {_command} --{name} VALUE)");
    }

    /// <summary>Every value of an option that may be given more than once (`--model A --model B`), in order.</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        _read.Add(name);
        if (!_repeated.TryGetValue(name, out var values))
            return [];
        return [.. values.Select(v => v ?? throw new UsageException($"--{name} needs a value (edgenode {_command} --{name} VALUE)"))];
    }

    public string Required(string name, string hint) =>
        String(name) ?? throw new UsageException($"edgenode {_command} needs --{name} {hint}");

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = String(name);
        if (text is null)
            return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new UsageException($"--{name} '{text}' is not a whole number");
        if (value < min || value > max)
            throw new UsageException($"--{name} {value} is out of range ({min}..{max})");
        return value;
    }

    public float Float(string name, float fallback)
    {
        var text = String(name);
        if (text is null)
            return fallback;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || float.IsNaN(value))
            throw new UsageException($"--{name} '{text}' is not a number");
        return value;
    }

    public ulong? ULong(string name)
    {
        var text = String(name);
        if (text is null)
            return null;
        if (!ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new UsageException($"--{name} '{text}' is not a non-negative whole number");
        return value;
    }

    /// <summary>Fails on any option no one asked for, naming it.</summary>
    public void RejectUnknown(int maxPositionals = 0)
    {
        foreach (var name in _options.Keys)
        {
            if (!_read.Contains(name))
                throw new UsageException($"unknown option --{name} for 'edgenode {_command}'; see 'edgenode {_command} --help'");
        }
        if (_positionals.Count > maxPositionals)
            throw new UsageException($"unexpected argument '{_positionals[maxPositionals]}' for 'edgenode {_command}'; see 'edgenode {_command} --help'");
    }
}
