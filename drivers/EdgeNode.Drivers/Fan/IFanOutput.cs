namespace EdgeNode.Drivers.Fan;

/// <summary>A fan whose speed is set as a duty fraction, 0 (off) to 1 (full).</summary>
public interface IFanOutput
{
    string Name { get; }

    double Duty { get; }

    void SetDuty(double fraction);
}
