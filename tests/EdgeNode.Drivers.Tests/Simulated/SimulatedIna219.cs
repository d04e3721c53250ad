namespace EdgeNode.Drivers.Tests.Simulated;

/// <summary>
/// An INA219 at the register level: the test sets the physical bus voltage and load current; the
/// chip's ADC results and its own current/power arithmetic follow the datasheet
/// (shunt LSB 10 µV, bus LSB 4 mV in bits 15..3, current = shunt × cal / 4096, power = current × bus / 5000).
/// </summary>
public sealed class SimulatedIna219(double shuntOhms, int busNumber = 1, int address = 0x40) : SimulatedRegisterDevice(busNumber, address)
{
    private ushort _configuration = 0x399F;
    private ushort _calibration;

    public double BusVolts { get; set; }

    public double LoadAmps { get; set; }

    public ushort Configuration => _configuration;

    public ushort CalibrationValue => _calibration;

    private short ShuntRaw
    {
        get
        {
            // PG=/8 gives ±320 mV; the ADC clips beyond it.
            var raw = Math.Round(LoadAmps * shuntOhms / 10e-6);
            return (short)Math.Clamp(raw, -32000, 32000);
        }
    }

    private int BusRaw => (int)Math.Clamp(Math.Round(BusVolts / 4e-3), 0, 8191);

    private short CurrentRaw => (short)Math.Clamp(ShuntRaw * _calibration / 4096, short.MinValue, short.MaxValue);

    protected override ushort ReadRegister(byte register) => register switch
    {
        0x00 => _configuration,
        0x01 => (ushort)ShuntRaw,
        0x02 => (ushort)((BusRaw << 3) | 0x2 /* CNVR: a conversion is ready */),
        0x03 => _calibration == 0 ? (ushort)0 : (ushort)Math.Clamp(Math.Abs(CurrentRaw) * BusRaw / 5000, 0, ushort.MaxValue),
        0x04 => _calibration == 0 ? (ushort)0 : (ushort)CurrentRaw,
        0x05 => _calibration,
        _ => throw new IOException($"INA219 has no register 0x{register:x2}"),
    };

    protected override void WriteRegister(byte register, ushort value)
    {
        switch (register)
        {
            case 0x00 when (value & 0x8000) != 0:
                // Reset restores power-on defaults, calibration included.
                _configuration = 0x399F;
                _calibration = 0;
                break;
            case 0x00:
                _configuration = value;
                break;
            case 0x05:
                _calibration = (ushort)(value & 0xFFFE);
                break;
            default:
                throw new IOException($"INA219 register 0x{register:x2} is read-only");
        }
    }
}
