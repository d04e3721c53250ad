using EdgeNode.Models.Hub;

namespace EdgeNode.Models.Tests.Hub;

public sealed class ProgressBarTests
{
    [Fact]
    public void In_a_log_it_prints_a_line_at_every_tenth()
    {
        using var writer = new StringWriter();
        var bar = new ProgressBar(writer, interactive: false);

        for (var done = 0; done <= 1000; done += 7)
            bar.Report(new DownloadProgress("model.bin", done, 1000, 2048));
        bar.Report(new DownloadProgress("model.bin", 1000, 1000, 2048));

        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(11, lines.Length);
        Assert.StartsWith("model.bin [------------------------------]   0%", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("model.bin [##############################] 100%", lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain('\r', writer.ToString());
    }

    [Fact]
    public void On_a_terminal_it_redraws_one_line_and_ends_it_when_the_file_is_done()
    {
        using var writer = new StringWriter();
        var now = TimeSpan.Zero;
        using (var bar = new ProgressBar(writer, interactive: true, clock: () => now))
        {
            for (var done = 0; done <= 1 << 20; done += 1 << 16)
            {
                now += TimeSpan.FromMilliseconds(150);
                bar.Report(new DownloadProgress("a.bin", done, 1 << 20, 1 << 20));
            }
            bar.Report(new DownloadProgress("b.bin", 10, null, 0));
        }

        var text = writer.ToString();
        var lines = text.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.True(lines[0].Count(c => c == '\r') > 10);
        Assert.Contains("100%  1.0 MB/1.0 MB  1.0 MB/s", lines[0], StringComparison.Ordinal);
        Assert.Equal("\rb.bin 10 B", lines[1]);
        Assert.Equal("", lines[2]);
    }

    [Fact]
    public void Redraws_are_throttled()
    {
        using var writer = new StringWriter();
        var bar = new ProgressBar(writer, interactive: true, clock: () => TimeSpan.FromSeconds(1));

        for (var done = 0; done < 1000; done++)
            bar.Report(new DownloadProgress("a.bin", done, 1000, 0));

        Assert.Equal(1, writer.ToString().Count(c => c == '\r'));
    }
}
