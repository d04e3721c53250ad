namespace EdgeNode.Drivers.Tests.Gpio;

/// <summary>
/// A fact that needs the kernel's gpio-sim (configfs) and root. xunit 2 cannot skip from inside a
/// running test, so the check happens here, when the test is discovered: without gpio-sim the test is
/// reported as skipped with the reason, never counted as passed.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class GpioSimFactAttribute : FactAttribute
{
    public const string ConfigFs = "/sys/kernel/config/gpio-sim";

    public GpioSimFactAttribute()
    {
        if (!Directory.Exists(ConfigFs))
            Skip = $"gpio-sim is not available ({ConfigFs} is missing: load the gpio-sim module with configfs mounted); the simulated chip tests cover the driver";
        else if (Environment.UserName != "root")
            Skip = $"gpio-sim needs root to create a chip under {ConfigFs}; the simulated chip tests cover the driver";
    }
}
