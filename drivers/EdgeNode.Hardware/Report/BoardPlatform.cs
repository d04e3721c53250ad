namespace EdgeNode.Hardware.Report;

/// <summary>The family of machine, which decides defaults (pinout, sensors, where the throttle point is).</summary>
public enum BoardPlatform
{
    Unknown,
    RaspberryPi,
    Jetson,
    Rockchip,
    AndroidPhone,
    X86Pc,
    OtherArm,
}
