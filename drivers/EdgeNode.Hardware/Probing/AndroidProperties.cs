namespace EdgeNode.Hardware.Probing;

/// <summary>
/// Android's build properties, read from the build.prop files an unprivileged app (Termux) may
/// read. getprop would be complete, but a file read works on a fake tree and needs no process.
/// </summary>
internal sealed class AndroidProperties
{
    private static readonly string[] s_files = ["/system/build.prop", "/vendor/build.prop", "/odm/etc/build.prop", "/product/etc/build.prop"];

    private readonly Dictionary<string, string> _values;

    private AndroidProperties(Dictionary<string, string> values, bool present)
    {
        _values = values;
        IsAndroid = present;
    }

    public bool IsAndroid { get; }

    public static AndroidProperties Read(string root)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var present = false;
        foreach (var file in s_files)
        {
            var text = EdgeNode.Drivers.Sysfs.SysfsText.TryRead(EdgeNode.Drivers.Sysfs.SysfsText.Under(root, file));
            if (text is null)
                continue;
            present = true;
            foreach (var line in text.Split('\n'))
            {
                var trimmed = line.Trim();
                if (trimmed.Length == 0 || trimmed[0] == '#')
                    continue;
                var equals = trimmed.IndexOf('=', StringComparison.Ordinal);
                // The first file that sets a property wins, as init reads system before vendor overrides are applied to ro.*.
                if (equals > 0)
                    values.TryAdd(trimmed[..equals], trimmed[(equals + 1)..]);
            }
        }
        return new AndroidProperties(values, present);
    }

    public string? this[string key] => _values.TryGetValue(key, out var value) && value.Length > 0 ? value : null;

    /// <summary>
    /// The first set property of a family: build.prop files carry partition-qualified names
    /// (ro.product.system.model, ro.product.vendor.model); init derives ro.product.model from them at boot.
    /// </summary>
    public string? Product(string field) =>
        this[$"ro.product.{field}"] ?? this[$"ro.product.vendor.{field}"] ?? this[$"ro.product.odm.{field}"]
        ?? this[$"ro.product.product.{field}"] ?? this[$"ro.product.system.{field}"];
}
