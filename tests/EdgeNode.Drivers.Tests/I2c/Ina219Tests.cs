using EdgeNode.Drivers.I2c;
using EdgeNode.Drivers.Linux;
using EdgeNode.Drivers.Power;
using EdgeNode.Drivers.Tests.Simulated;

namespace EdgeNode.Drivers.Tests.I2c;

public sealed class Ina219Tests
{
    [Fact]
    public void Setup_ResetsConfiguresAndCalibratesForTheShunt()
    {
        var chip = new SimulatedIna219(shuntOhms: 0.1);
        using var sensor = new Ina219(chip, shuntOhms: 0.1, maxExpectedAmps: 3.2);

        // Current LSB = 3.2 A / 32768 ≈ 97.66 µA; cal = trunc(0.04096 / (LSB × 0.1 Ω)) = 4194, bit 0 cleared.
        Assert.Equal(4194, sensor.Calibration);
        Assert.Equal([(0x00, 0x8000), (0x00, 0x399F), (0x05, 4194)], chip.Writes.Select(w => ((int)w.Register, (int)w.Value)));
        Assert.Equal(4194, chip.CalibrationValue);
        Assert.Equal(0x399F, chip.Configuration);
    }

    [Theory]
    [InlineData(5.1, 1.2)]
    [InlineData(12.0, 0.35)]
    [InlineData(3.3, 0.0)]
    [InlineData(5.0, -0.5)]
    public void Readings_MatchThePhysicalValuesWithinTheChipsResolution(double volts, double amps)
    {
        var chip = new SimulatedIna219(shuntOhms: 0.1) { BusVolts = volts, LoadAmps = amps };
        using var sensor = new Ina219(chip, 0.1, 3.2);

        var reading = sensor.Read();
        Assert.Equal(volts, reading.Volts, 0.004);
        // Within two current LSBs (3.2 A / 32768) and about two power LSBs (20 current LSBs): measured 7.2e-5 A, 2.4e-3 W.
        Assert.Equal(amps, reading.Amps, 2 * 3.2 / 32768);
        Assert.Equal(volts * Math.Abs(amps), reading.Watts, 0.005);
        Assert.Equal(amps * 0.1, sensor.ReadShuntVolts(), 1e-5);
    }

    [Fact]
    public void Overflow_IsReportedNotReadAsAValue()
    {
        var chip = new OverflowingIna219();
        using var sensor = new Ina219(chip, 0.1, 3.2);
        Assert.True(sensor.ReadOverflow());
        var error = Assert.Throws<InvalidOperationException>(() => sensor.Read());
        Assert.Contains("overflow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThroughDevI2c_TheDriverAddressesTheChipWithI2cSlave()
    {
        var adapter = new SimulatedI2cAdapter("/dev/i2c-1");
        adapter.Attach(new SimulatedIna219(0.1, busNumber: 1, address: 0x41) { BusVolts = 5.0, LoadAmps = 0.8 });

        using var device = new LinuxI2cDevice(1, 0x41, adapter);
        using var sensor = new Ina219(device, 0.1, 3.2);
        Assert.Equal("ina219@1-0x41", sensor.Name);
        Assert.Equal((0x0703u, (nint)0x41), adapter.IntegerIoctls.Single());
        Assert.Equal(4.0, sensor.Read().Watts, 0.005);   // measured 1.7e-3
    }

    [Fact]
    public void AnEmptyAddress_FailsWithTheKernelsNak()
    {
        var adapter = new SimulatedI2cAdapter("/dev/i2c-1");
        using var device = new LinuxI2cDevice(1, 0x40, adapter);
        var error = Assert.Throws<CharacterDeviceException>(() => new Ina219(device));
        Assert.Equal(Errno.ENXIO, error.ErrorNumber);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinuxI2cDevice(1, 0x80, adapter));
    }

    private sealed class OverflowingIna219() : SimulatedRegisterDevice(1, 0x40)
    {
        protected override ushort ReadRegister(byte register) => register == 0x02 ? (ushort)((1250 << 3) | 0x3) : (ushort)0;

        protected override void WriteRegister(byte register, ushort value)
        {
        }
    }
}
