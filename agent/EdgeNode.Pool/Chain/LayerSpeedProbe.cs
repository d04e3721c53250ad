using System.Diagnostics;
using EdgeNode.Inference.Runtime;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Pool.Chain;

/// <summary>
/// Measures how fast this node runs a layer: opens the slices of an assignment from a folder, feeds one position,
/// then times single-position decode steps (the work a chain asks of a node per token) and divides the median step by
/// the layers. The embedding and head, when the assignment holds them, are counted in (a chain's stage pays for them
/// too). Bounded: at most <see cref="MaxSteps"/> timed steps or <see cref="Budget"/> of them, whichever comes first.
/// The slices are opened a second time beside the chain's own, so memory for one more copy is needed for the
/// moment it runs.
/// </summary>
public static class LayerSpeedProbe
{
    public const int MaxSteps = 16;

    public static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(500);

    /// <summary>Milliseconds per layer per decoded token (the assignment must hold at least one layer).</summary>
    public static double Measure(InferenceRuntime runtime, string folder, SliceAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (assignment.LayerCount <= 0)
            throw new ArgumentException("the speed of a layer is measured over an assignment that holds layers", nameof(assignment));
        using var slices = NodeSlices.Load(runtime, folder, assignment);
        var caches = slices.CreateCaches(MaxSteps + 4);
        try
        {
            var dim = slices.Config.Dim;
            var hidden = new float[dim];
            for (var i = 0; i < dim; i++)
                hidden[i] = 0.02f * MathF.Sin(i * 0.37f);
            int[] token = [1];
            Step(slices, assignment.Embed, token, hidden, caches);   // warm-up: first runs allocate and plan
            var times = new List<double>(MaxSteps);
            var started = Stopwatch.GetTimestamp();
            while (times.Count < MaxSteps && (times.Count < 3 || Stopwatch.GetElapsedTime(started) < Budget))
            {
                var step = Stopwatch.GetTimestamp();
                Step(slices, assignment.Embed, token, hidden, caches);
                times.Add(Stopwatch.GetElapsedTime(step).TotalMilliseconds);
            }
            times.Sort();
            return times[times.Count / 2] / assignment.LayerCount;
        }
        finally
        {
            foreach (var cache in caches)
                cache.Dispose();
        }
    }

    private static void Step(NodeSlices slices, bool entry, int[] token, float[] hidden, Inference.Sessions.KvCache[] caches)
    {
        if (entry)
            slices.RunTokens(token, caches);
        else
            slices.RunHidden(hidden, caches);
    }
}
