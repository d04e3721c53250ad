namespace EdgeNode.Models.Tests;

/// <summary>An IProgress that reports on the caller's thread, so assertions see every report.</summary>
internal sealed class SynchronousProgress(Action<double> report) : IProgress<double>
{
    public void Report(double value) => report(value);
}
