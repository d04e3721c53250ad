namespace EdgeNode.Drivers.Tests.Simulated;

/// <summary>
/// An INA226 at the register level (shunt LSB 2.5 µV, bus LSB 1.25 mV, current = shunt × cal / 2048,
/// power = current × bus / 20000, ids 0x5449 and 0x2260 at 0xFE and 0xFF).
/// </summary>
public sealed class SimulatedIna226(double shuntOhms, int busNumber = 1, int address = 0x40, ushort dieId = 0x2260) : SimulatedRegisterDevice(busNumber, address)
{
    private ushort _configuration = 0x4127;
    private ushort _calibration;

    public double BusVolts { get; set; }

    public double LoadAmps { get; set; }

    public ushort Configuration => _configuration;

    private short ShuntRaw => (short)Math.Clamp(Math.Round(LoadAmps * shuntOhms / 2.5e-6), short.MinValue, short.MaxValue);

    private int BusRaw => (int)Math.Clamp(Math.Round(BusVolts / 1.25e-3), 0, 0x7FFF);

    private short CurrentRaw => (short)Math.Clamp(ShuntRaw * _calibration / 2048, short.MinValue, short.MaxValue);

    protected override ushort ReadRegister(byte register) => register switch
    {
        0x00 => _configuration,
        0x01 => (ushort)ShuntRaw,
        0x02 => (ushort)BusRaw,
        0x03 => (ushort)Math.Clamp(Math.Abs(CurrentRaw) * BusRaw / 20000, 0, ushort.MaxValue),
        0x04 => (ushort)CurrentRaw,
        0x05 => _calibration,
        0x06 => 0,
        0x07 => 0,
        0xFE => 0x5449,
        0xFF => dieId,
        _ => throw new IOException($"INA226 has no register 0x{register:x2}"),
    };

    protected override void WriteRegister(byte register, ushort value)
    {
        switch (register)
        {
            case 0x00 when (value & 0x8000) != 0:
                _configuration = 0x4127;
                _calibration = 0;
                break;
            case 0x00:
                _configuration = value;
                break;
            case 0x05:
                _calibration = (ushort)(value & 0x7FFF);
                break;
            default:
                throw new IOException($"INA226 register 0x{register:x2} is read-only");
        }
    }
}
