using EdgeNode.Drivers.Power;
using EdgeNode.Drivers.Tests.Simulated;

namespace EdgeNode.Drivers.Tests.Sensors;

public sealed class EnergyPerTokenTests
{
    [Fact]
    public void TrapezoidEnergy_DividedByTokens()
    {
        PowerSample[] samples = [new(TimeSpan.Zero, 4), new(TimeSpan.FromSeconds(1), 6), new(TimeSpan.FromSeconds(3), 6)];
        var energy = EnergyPerToken.Compute(samples, tokens: 34);
        // 1 s at a mean of 5 W, then 2 s at 6 W: 17 J.
        Assert.Equal(17, energy.Joules, 9);
        Assert.Equal(0.5, energy.JoulesPerToken, 9);
        Assert.Equal(17 / 3.0, energy.AverageWatts, 9);
    }

    [Fact]
    public void RunDuration_ScalesTheMeanPower()
    {
        PowerSample[] samples = [new(TimeSpan.FromMilliseconds(100), 5), new(TimeSpan.FromMilliseconds(600), 5)];
        var energy = EnergyPerToken.Compute(samples, 10, TimeSpan.FromSeconds(2));
        Assert.Equal(10, energy.Joules, 9);
        Assert.Equal(1, energy.JoulesPerToken, 9);
        Assert.Equal(10 / 10.0, energy.JoulesPerToken, 9);
    }

    [Fact]
    public void BadInput_IsRefusedWithAReason()
    {
        Assert.Contains("no power samples", Assert.Throws<ArgumentException>(() => EnergyPerToken.Compute([], 5)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EnergyPerToken.Compute([new(TimeSpan.Zero, -1)], 5, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentException>(() => EnergyPerToken.Compute([new(TimeSpan.Zero, 3)], 5));
    }

    [Fact]
    public void Sampler_ReadsTheSensorOnTheRunsClock()
    {
        var chip = new SimulatedIna219(0.1) { BusVolts = 5, LoadAmps = 1 };
        using var ina = new Ina219(chip, 0.1, 3.2);
        var time = new ManualTimeProvider();
        var sampler = new PowerSampler(ina, time);
        sampler.SampleNow();
        time.Advance(TimeSpan.FromSeconds(1));
        chip.LoadAmps = 2;
        sampler.SampleNow();
        time.Advance(TimeSpan.FromSeconds(1));
        var energy = sampler.Finish(tokens: 20);
        // 1 s ramping 5 → 10 W (7.5 J) then 1 s at 10 W: 17.5 J over 20 tokens.
        Assert.Equal(17.5, energy.Joules, 0.006);            // measured 2.6e-3 (the chip's power LSB)
        Assert.Equal(0.875, energy.JoulesPerToken, 0.0003);  // measured 1.3e-4
        Assert.Equal(3, energy.SampleCount);
    }
}
