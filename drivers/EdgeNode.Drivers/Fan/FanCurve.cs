namespace EdgeNode.Drivers.Fan;

/// <summary>Duty as a piecewise-linear function of temperature; flat below the first and above the last point.</summary>
public sealed class FanCurve
{
    private readonly (double Celsius, double Duty)[] _points;

    public FanCurve(params (double Celsius, double Duty)[] points)
    {
        if (points.Length == 0)
            throw new ArgumentException("a fan curve needs at least one point", nameof(points));
        _points = [.. points.OrderBy(point => point.Celsius)];
        if (_points.Any(point => point.Duty is < 0 or > 1))
            throw new ArgumentException("fan duty is a fraction from 0 to 1", nameof(points));
    }

    /// <summary>Quiet until 50 °C, then rising to full at 75 °C, well before common SoC throttle points (80-85 °C).</summary>
    public static FanCurve Default { get; } = new((45, 0), (50, 0.3), (60, 0.5), (70, 0.8), (75, 1));

    public IReadOnlyList<(double Celsius, double Duty)> Points => _points;

    public double DutyAt(double celsius)
    {
        if (celsius <= _points[0].Celsius)
            return _points[0].Duty;
        for (var i = 1; i < _points.Length; i++)
        {
            if (celsius <= _points[i].Celsius)
            {
                var (c0, d0) = _points[i - 1];
                var (c1, d1) = _points[i];
                return d0 + ((d1 - d0) * (celsius - c0) / (c1 - c0));
            }
        }
        return _points[^1].Duty;
    }
}
