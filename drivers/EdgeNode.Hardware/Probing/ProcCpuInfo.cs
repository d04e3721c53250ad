using System.Globalization;

namespace EdgeNode.Hardware.Probing;

/// <summary>
/// /proc/cpuinfo split into one block per "processor" plus the trailing machine-wide keys
/// (arm: Hardware, Revision, Serial, Model). Keys are as the kernel writes them, values trimmed.
/// </summary>
internal sealed class ProcCpuInfo
{
    private ProcCpuInfo(IReadOnlyList<IReadOnlyDictionary<string, string>> processors, IReadOnlyDictionary<string, string> machine)
    {
        Processors = processors;
        Machine = machine;
    }

    public IReadOnlyList<IReadOnlyDictionary<string, string>> Processors { get; }

    public IReadOnlyDictionary<string, string> Machine { get; }

    public static ProcCpuInfo Parse(string? text)
    {
        var processors = new List<IReadOnlyDictionary<string, string>>();
        var machine = new Dictionary<string, string>(StringComparer.Ordinal);
        Dictionary<string, string>? current = null;
        foreach (var rawLine in (text ?? "").Split('\n'))
        {
            var colon = rawLine.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                current = null;
                continue;
            }
            var key = rawLine[..colon].Trim();
            var value = rawLine[(colon + 1)..].Trim();
            if (key == "processor")
            {
                current = new Dictionary<string, string>(StringComparer.Ordinal) { [key] = value };
                processors.Add(current);
            }
            else if (current is not null)
            {
                current[key] = value;
            }
            else
            {
                machine[key] = value;
            }
        }
        return new ProcCpuInfo(processors, machine);
    }

    /// <summary>The processor block of a logical CPU, matched by its "processor" number.</summary>
    public IReadOnlyDictionary<string, string>? ForCore(int core) =>
        Processors.FirstOrDefault(block => block.TryGetValue("processor", out var number)
            && int.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n == core);

    /// <summary>A value from any processor block, or from the machine-wide part.</summary>
    public string? First(string key) =>
        Processors.Select(block => block.TryGetValue(key, out var value) ? value : null).FirstOrDefault(value => value is not null)
        ?? (Machine.TryGetValue(key, out var machineValue) ? machineValue : null);

    public bool IsX86 => First("flags") is not null || First("vendor_id") is not null;

    public bool IsArm => First("CPU implementer") is not null || First("Features") is not null;
}
