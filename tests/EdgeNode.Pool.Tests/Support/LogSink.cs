using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Pool.Tests.Support;

/// <summary>An ILogger that keeps every entry, so a test can read the reason a payload was ignored.</summary>
public sealed class LogSink : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, int EventId, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Entries => [.. _entries];

    public IEnumerable<string> Messages(int eventId) => _entries.Where(e => e.EventId == eventId).Select(e => e.Message);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));

    /// <summary>Waits until an entry of <paramref name="eventId"/> contains <paramref name="text"/>.</summary>
    public async Task<string> WaitForAsync(int eventId, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var hit = Messages(eventId).FirstOrDefault(m => m.Contains(text, StringComparison.Ordinal));
            if (hit is not null)
                return hit;
            await Task.Delay(25);
        }
        throw new TimeoutException($"no log entry {eventId} containing '{text}' within {timeout}; entries: {string.Join(" | ", Entries.Select(e => e.Message))}");
    }
}
