using EdgeNode.Drivers.I2c;

namespace EdgeNode.Drivers.Power;

/// <summary>
/// TI INA226 current/power monitor: 16 averages, 1.1 ms conversions, continuous shunt and bus,
/// calibrated for the expected maximum current. Checks the manufacturer and die ids first, so a
/// wrong address fails with a clear message instead of nonsense readings.
/// </summary>
public sealed class Ina226 : IPowerSensor, IDisposable
{
    public const int DefaultAddress = 0x40;

    public const byte ConfigurationRegister = InaCalibration.ConfigurationRegister;
    public const byte ShuntVoltageRegister = 0x01;
    public const byte BusVoltageRegister = 0x02;
    public const byte PowerRegister = 0x03;
    public const byte CurrentRegister = 0x04;
    public const byte CalibrationRegister = InaCalibration.CalibrationRegister;
    public const byte ManufacturerIdRegister = 0xFE;
    public const byte DieIdRegister = 0xFF;

    /// <summary>"TI" in ASCII.</summary>
    public const ushort TexasInstrumentsId = 0x5449;
    public const ushort Ina226DieId = 0x2260;

    public const ushort ResetBit = InaCalibration.ResetBit;

    /// <summary>Bits 14..12 read 100; AVG=16, VBUSCT=VSHCT=1.1 ms, MODE=shunt and bus continuous.</summary>
    public const ushort ContinuousConfiguration = 0x4000 | (0x2 << 9) | (0x4 << 6) | (0x4 << 3) | 0x7;

    private const double ShuntVoltsPerBit = 2.5e-6;
    private const double BusVoltsPerBit = 1.25e-3;
    private const double CalibrationScale = 0.00512;
    private const int PowerLsbPerCurrentLsb = 25;

    private readonly II2cDevice _device;

    public Ina226(II2cDevice device, double shuntOhms = 0.1, double maxExpectedAmps = 0.8, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shuntOhms);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExpectedAmps);
        _device = device;
        ShuntOhms = shuntOhms;
        Name = name ?? $"ina226@{device.BusNumber}-0x{device.Address:x2}";

        var manufacturer = _device.ReadWordBigEndian(ManufacturerIdRegister);
        var die = _device.ReadWordBigEndian(DieIdRegister);
        if (manufacturer != TexasInstrumentsId || die != Ina226DieId)
            throw new InvalidOperationException(
                $"no INA226 at 0x{device.Address:x2} on i2c-{device.BusNumber}: manufacturer id 0x{manufacturer:x4} (want 0x{TexasInstrumentsId:x4}), die id 0x{die:x4} (want 0x{Ina226DieId:x4})");

        // Bit 15 of the calibration register is reserved.
        var calibration = InaCalibration.For(CalibrationScale, shuntOhms, maxExpectedAmps, 0x7FFF);
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

    public double ReadBusVolts() => _device.ReadWordBigEndian(BusVoltageRegister) * BusVoltsPerBit;

    public double ReadAmps() => (short)_device.ReadWordBigEndian(CurrentRegister) * CurrentAmpsPerBit;

    public double ReadWatts() => _device.ReadWordBigEndian(PowerRegister) * PowerWattsPerBit;

    public PowerReading Read() => new(ReadBusVolts(), ReadAmps(), ReadWatts());

    public void Dispose() => _device.Dispose();
}
