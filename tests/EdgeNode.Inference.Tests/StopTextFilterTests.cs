using EdgeNode.Inference.Generation;

namespace EdgeNode.Inference.Tests;

public sealed class StopTextFilterTests
{
    [Fact]
    public void AStopTextSplitOverPiecesIsNeverReleased()
    {
        var filter = new StopTextFilter(["</s>"]);
        Assert.Equal("Hello ", filter.Append("Hello <"));
        Assert.Equal(1, filter.HeldLength);
        Assert.Equal("", filter.Append("/"));
        Assert.Equal("", filter.Append("s>after"));
        Assert.True(filter.Stopped);
        Assert.Equal("", filter.Append("more"));
        Assert.Equal("", filter.Flush());
    }

    [Fact]
    public void APartialMatchThatDivergesIsReleasedIntact()
    {
        var filter = new StopTextFilter(["</s>"]);
        Assert.Equal("a ", filter.Append("a <"));
        Assert.Equal("", filter.Append("/"));
        Assert.Equal("</x", filter.Append("x"));
        Assert.Equal(0, filter.HeldLength);
        Assert.False(filter.Stopped);
    }

    [Fact]
    public void TextHeldAtTheEndIsReleasedByFlush()
    {
        var filter = new StopTextFilter(["STOP"]);
        Assert.Equal("the end ", filter.Append("the end ST"));
        Assert.Equal("ST", filter.Flush());
        Assert.Equal("", filter.Flush());
    }

    [Fact]
    public void OnlyTheTextBeforeAStopInsideOnePieceIsReleased()
    {
        var filter = new StopTextFilter(["STOP"]);
        Assert.Equal("one ", filter.Append("one STOP two"));
        Assert.True(filter.Stopped);
    }

    [Fact]
    public void TheFirstStopTextCompletedWins()
    {
        // "bc" is complete once "c" arrives, before "abcd" could be: the text ends before "bc".
        var filter = new StopTextFilter(["abcd", "bc"]);
        Assert.Equal("x", filter.Append("xab"));
        Assert.Equal("a", filter.Append("c"));
        Assert.True(filter.Stopped);
        // All in one piece the same cut is made, so the result does not depend on how text was split.
        Assert.Equal("xa", new StopTextFilter(["abcd", "bc"]).Append("xabcd"));
    }

    [Fact]
    public void WithoutStopTextsPiecesPassStraightThrough()
    {
        var filter = new StopTextFilter(["", ""]);
        var piece = "anything </s> at all";
        Assert.Same(piece, filter.Append(piece));
        Assert.Equal("", filter.Flush());
    }

    /// <summary>
    /// Random texts over a tiny alphabet (so stop texts overlap and half-match all the time), split at
    /// random: the stream is always a prefix of the right answer, and all of it once flushed.
    /// </summary>
    [Fact]
    public void AnySplitStreamsExactlyTheTextBeforeTheFirstCompletedStop()
    {
        var random = new Random(17);
        string[] stops = ["aab", "ba", "abab", "bbbb"];
        for (var trial = 0; trial < 2000; trial++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 24)).Select(_ => random.Next(3) == 0 ? 'b' : 'a').ToArray());
            var expected = CutAtFirstCompletedStop(text, stops);
            var filter = new StopTextFilter(stops);
            var streamed = "";
            for (var at = 0; at < text.Length;)
            {
                var length = Math.Min(text.Length - at, random.Next(1, 5));
                streamed += filter.Append(text.Substring(at, length));
                at += length;
                Assert.StartsWith(streamed, expected, StringComparison.Ordinal);
            }
            streamed += filter.Flush();
            Assert.Equal(expected, streamed);
            Assert.Equal(expected.Length < text.Length, filter.Stopped);
        }
    }

    private static string CutAtFirstCompletedStop(string text, string[] stops)
    {
        for (var end = 1; end <= text.Length; end++)
        {
            var start = stops.Where(stop => stop.Length <= end && text.AsSpan(end - stop.Length, stop.Length).SequenceEqual(stop))
                .Select(stop => end - stop.Length).DefaultIfEmpty(-1).Min();
            if (start >= 0)
                return text[..start];
        }
        return text;
    }
}
