using EdgeNode.Drivers.Power;
using EdgeNode.Drivers.Tests.Simulated;

namespace EdgeNode.Drivers.Tests.I2c;

public sealed class Ina226Tests
{
    [Fact]
    public void Setup_ChecksIdsAndCalibrates()
    {
        var chip = new SimulatedIna226(shuntOhms: 0.01);
        using var sensor = new Ina226(chip, shuntOhms: 0.01, maxExpectedAmps: 8);

        // Current LSB = 8 A / 32768 ≈ 244 µA; cal = trunc(0.00512 / (LSB × 0.01 Ω)) = 2097.
        Assert.Equal(2097, sensor.Calibration);
        Assert.Equal([(0x00, 0x8000), (0x00, 0x4527), (0x05, 2097)], chip.Writes.Select(w => ((int)w.Register, (int)w.Value)));
    }

    [Theory]
    [InlineData(12.0, 2.5)]
    [InlineData(19.5, 6.0)]
    [InlineData(5.0, 0.1)]
    public void Readings_MatchThePhysicalValues(double volts, double amps)
    {
        var chip = new SimulatedIna226(0.01) { BusVolts = volts, LoadAmps = amps };
        using var sensor = new Ina226(chip, 0.01, 8);
        var reading = sensor.Read();
        Assert.Equal(volts, reading.Volts, 0.00125);
        Assert.Equal(amps, reading.Amps, 0.0005);
        Assert.Equal(volts * amps, reading.Watts, 0.01);
    }

    [Fact]
    public void AnotherChipAtTheAddress_IsRefusedByName()
    {
        var chip = new SimulatedIna226(0.01, dieId: 0x1234);
        var error = Assert.Throws<InvalidOperationException>(() => new Ina226(chip, 0.01, 8));
        Assert.Contains("no INA226 at 0x40", error.Message, StringComparison.Ordinal);
        Assert.Contains("die id 0x1234", error.Message, StringComparison.Ordinal);
    }
}
