using EdgeNode.Drivers.I2c;

namespace EdgeNode.Drivers.Power;

/// <summary>
/// The calibration the TI INA2xx monitors share: the chip computes current = shunt reading × CAL / scale,
/// so CAL is chosen for the smallest current step that still reaches the expected maximum in a signed
/// 15-bit register. The chips differ only in the scale and in which calibration bits exist.
/// </summary>
internal readonly record struct InaCalibration(ushort Register, double CurrentAmpsPerBit)
{
    public const byte ConfigurationRegister = 0x00;
    public const byte CalibrationRegister = 0x05;
    public const ushort ResetBit = 0x8000;

    /// <param name="usableBits">The calibration register's writable bits (INA219: 0xFFFE, bit 0 unused; INA226: 0x7FFF, bit 15 reserved).</param>
    public static InaCalibration For(double calibrationScale, double shuntOhms, double maxExpectedAmps, ushort usableBits)
    {
        var wantedLsb = maxExpectedAmps / 32768.0;
        var calibration = (uint)(calibrationScale / (wantedLsb * shuntOhms));
        var register = (ushort)(Math.Min(calibration, usableBits) & usableBits);
        if (register == 0)
            throw new ArgumentException($"shunt {shuntOhms} Ω with {maxExpectedAmps} A gives a zero calibration; the current is too large for this shunt");
        return new InaCalibration(register, calibrationScale / (register * shuntOhms));
    }

    /// <summary>Resets the chip, sets its configuration, then writes this calibration.</summary>
    public void Apply(II2cDevice device, ushort configuration)
    {
        device.WriteWordBigEndian(ConfigurationRegister, ResetBit);
        device.WriteWordBigEndian(ConfigurationRegister, configuration);
        device.WriteWordBigEndian(CalibrationRegister, Register);
    }
}
