using System.Globalization;
using System.Text;

namespace EdgeNode.Models.Hub;

/// <summary>
/// Shows <see cref="DownloadProgress"/> on stderr: on a terminal one line redrawn in place with '\r';
/// in a log (stderr redirected) a plain line at every 10% so CI output stays short but never silent.
/// </summary>
public sealed class ProgressBar : IProgress<DownloadProgress>, IDisposable
{
    private const int BarWidth = 30;
    private static readonly TimeSpan s_redrawInterval = TimeSpan.FromMilliseconds(100);
    private const long UnknownSizeLogStep = 16L << 20;

    private readonly TextWriter _writer;
    private readonly bool _interactive;
    private readonly Func<TimeSpan> _clock;
    private readonly Lock _gate = new();
    private string? _file;
    private int _lastDecile = -1;
    private long _lastLoggedBytes;
    private TimeSpan _lastRedraw;
    private int _lastLineLength;
    private bool _lineOpen;

    /// <param name="writer">Where to draw; stderr by default.</param>
    /// <param name="interactive">Redraw in place; by default, when drawing on stderr, whether stderr is a terminal.</param>
    /// <param name="clock">Elapsed time source (tests pass their own).</param>
    public ProgressBar(TextWriter? writer = null, bool? interactive = null, Func<TimeSpan>? clock = null)
    {
        _writer = writer ?? Console.Error;
        _interactive = interactive ?? ((writer is null || ReferenceEquals(writer, Console.Error)) && !Console.IsErrorRedirected);
        if (clock is null)
        {
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            clock = () => stopwatch.Elapsed;
        }
        _clock = clock;
    }

    public void Report(DownloadProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate)
        {
            if (!string.Equals(value.File, _file, StringComparison.Ordinal))
            {
                EndLine();
                _file = value.File;
                _lastDecile = -1;
                _lastLoggedBytes = 0;
                _lastRedraw = -s_redrawInterval;
            }
            if (_interactive)
                Redraw(value);
            else
                Log(value);
        }
    }

    /// <summary>Ends the line being redrawn, so later output starts on a fresh line.</summary>
    public void Complete()
    {
        lock (_gate)
            EndLine();
    }

    /// <summary>Same as <see cref="Complete"/>: a bar in a using block never leaves the cursor mid-line.</summary>
    public void Dispose() => Complete();

    /// <summary>The text of one progress line, e.g. "stories260K.bin [######----]  60%  0.6/1.0 MB  2.1 MB/s".</summary>
    public static string Format(DownloadProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var line = new StringBuilder(96);
        line.Append(value.File).Append(' ');
        if (value.TotalBytes is > 0 and var total)
        {
            var fraction = Math.Clamp((double)value.BytesDone / total, 0, 1);
            var filled = (int)(fraction * BarWidth);
            line.Append('[').Append('#', filled).Append('-', BarWidth - filled).Append("] ");
            line.Append(CultureInfo.InvariantCulture, $"{fraction * 100,3:0}%  ");
            line.Append(Size(value.BytesDone)).Append('/').Append(Size(total));
        }
        else
        {
            line.Append(Size(value.BytesDone));
        }
        if (value.BytesPerSecond > 0)
            line.Append("  ").Append(Size((long)value.BytesPerSecond)).Append("/s");
        return line.ToString();
    }

    private void Redraw(DownloadProgress value)
    {
        var now = _clock();
        if (!value.IsComplete && now - _lastRedraw < s_redrawInterval)
            return;
        _lastRedraw = now;
        var text = Format(value);
        // Pad over what the previous, longer line left behind.
        var padding = Math.Max(0, _lastLineLength - text.Length);
        _writer.Write('\r');
        _writer.Write(text);
        _writer.Write(new string(' ', padding));
        _lastLineLength = text.Length;
        _lineOpen = true;
        if (value.IsComplete)
            EndLine();
        _writer.Flush();
    }

    private void Log(DownloadProgress value)
    {
        if (value.TotalBytes is > 0 and var total)
        {
            var decile = (int)Math.Clamp(value.BytesDone * 10 / total, 0, 10);
            if (decile <= _lastDecile)
                return;
            _lastDecile = decile;
        }
        else
        {
            if (value.BytesDone - _lastLoggedBytes < UnknownSizeLogStep && _lastDecile >= 0)
                return;
            _lastDecile = 0;
            _lastLoggedBytes = value.BytesDone;
        }
        _writer.WriteLine(Format(value));
        _writer.Flush();
    }

    private void EndLine()
    {
        if (!_lineOpen)
            return;
        _writer.WriteLine();
        _writer.Flush();
        _lineOpen = false;
        _lastLineLength = 0;
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KB"),
        < 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.00} GB"),
    };
}
