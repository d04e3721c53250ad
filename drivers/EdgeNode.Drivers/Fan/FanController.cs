namespace EdgeNode.Drivers.Fan;

/// <summary>
/// Sets a fan from a temperature curve. Speed rises at once; it falls only after the temperature
/// drops a few degrees below the point that asked for the current speed, so a board hovering at
/// one temperature does not make the fan hunt up and down.
/// </summary>
public sealed class FanController
{
    private readonly IFanOutput _fan;
    private double _heldSince = double.NaN;

    public FanController(IFanOutput fan, FanCurve? curve = null, double hysteresisCelsius = 3)
    {
        ArgumentNullException.ThrowIfNull(fan);
        ArgumentOutOfRangeException.ThrowIfNegative(hysteresisCelsius);
        _fan = fan;
        Curve = curve ?? FanCurve.Default;
        HysteresisCelsius = hysteresisCelsius;
    }

    public FanCurve Curve { get; }

    public double HysteresisCelsius { get; }

    public double Duty => _fan.Duty;

    /// <summary>Applies the curve to a new temperature; returns the duty now set.</summary>
    public double Update(double celsius)
    {
        var wanted = Curve.DutyAt(celsius);
        if (double.IsNaN(_heldSince) || wanted > _fan.Duty)
        {
            _fan.SetDuty(wanted);
            _heldSince = celsius;
        }
        else if (wanted < _fan.Duty && celsius <= _heldSince - HysteresisCelsius)
        {
            _fan.SetDuty(wanted);
            _heldSince = celsius;
        }
        return _fan.Duty;
    }
}
