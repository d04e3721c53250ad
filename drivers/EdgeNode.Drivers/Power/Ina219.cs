using EdgeNode.Drivers.I2c;

namespace EdgeNode.Drivers.Power;

/// <summary>
/// TI INA219 current/power monitor. Configured for the 32 V bus range, the ±320 mV shunt range,
/// 12-bit conversions, continuous shunt and bus; calibrated so the chip itself computes current
/// and power from the shunt value and the LSB chosen for the expected maximum current.
/// </summary>
public sealed class Ina219 : IPowerSensor, IDisposable
{
    public const int DefaultAddress = 0x40;

    public const byte ConfigurationRegister = InaCalibration.ConfigurationRegister;
    public const byte ShuntVoltageRegister = 0x01;
    public const byte BusVoltageRegister = 0x02;
    public const byte PowerRegister = 0x03;
    public const byte CurrentRegister = 0x04;
    public const byte CalibrationRegister = InaCalibration.CalibrationRegister;

    public const ushort ResetBit = InaCalibration.ResetBit;

    /// <summary>BRNG=32 V, PG=/8 (±320 mV), BADC=SADC=12 bit, MODE=shunt and bus continuous.</summary>
    public const ushort ContinuousConfiguration = 0x2000 | 0x1800 | (0x3 << 7) | (0x3 << 3) | 0x7;

    private const double ShuntVoltsPerBit = 10e-6;
    private const double BusVoltsPerBit = 4e-3;
    private const double CalibrationScale = 0.04096;
    private const int PowerLsbPerCurrentLsb = 20;

    private readonly II2cDevice _device;

    public Ina219(II2cDevice device, double shuntOhms = 0.1, double maxExpectedAmps = 3.2, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shuntOhms);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExpectedAmps);
        _device = device;
        ShuntOhms = shuntOhms;
        Name = name ?? $"ina219@{device.BusNumber}-0x{device.Address:x2}";

        // Bit 0 of the calibration register is not used by the chip.
        var calibration = InaCalibration.For(CalibrationScale, shuntOhms, maxExpectedAmps, 0xFFFE);
        Calibration = calibration.Register;
        CurrentAmpsPerBit = calibration.CurrentAmpsPerBit;
        calibration.Apply(_device, ContinuousConfiguration);
    }

    public string Name { get; }

    public double ShuntOhms { get; }

    public ushort Calibration { get; }

    public double CurrentAmpsPerBit { get; }

    public double PowerWattsPerBit => CurrentAmpsPerBit * PowerLsbPerCurrentLsb;

    public double ReadShuntVolts() => (short)_device.ReadWordBigEndian(ShuntVoltageRegister) * ShuntVoltsPerBit;

    public double ReadBusVolts()
    {
        var raw = _device.ReadWordBigEndian(BusVoltageRegister);
        // Bit 0 (OVF): the power or current arithmetic overflowed; the bus voltage itself is still valid.
        return (raw >> 3) * BusVoltsPerBit;
    }

    /// <summary>True when the chip reports that its current or power arithmetic overflowed.</summary>
    public bool ReadOverflow() => (_device.ReadWordBigEndian(BusVoltageRegister) & 0x1) != 0;

    public double ReadAmps() => (short)_device.ReadWordBigEndian(CurrentRegister) * CurrentAmpsPerBit;

    public double ReadWatts() => _device.ReadWordBigEndian(PowerRegister) * PowerWattsPerBit;

    public PowerReading Read()
    {
        var busRaw = _device.ReadWordBigEndian(BusVoltageRegister);
        if ((busRaw & 0x1) != 0)
            throw new InvalidOperationException($"{Name}: current/power overflow; the shunt sees more than the range this calibration allows");
        var amps = ReadAmps();
        var watts = ReadWatts();
        return new PowerReading((busRaw >> 3) * BusVoltsPerBit, amps, watts);
    }

    public void Dispose() => _device.Dispose();
}
