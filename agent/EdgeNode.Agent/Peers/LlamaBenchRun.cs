namespace EdgeNode.Agent.Peers;

/// <summary>One decode measurement by native llama.cpp's llama-bench (no JavaScript in the timed loop).</summary>
/// <param name="DecodeTokS">llama-bench's mean tokens per second over its repetitions (avg_ts).</param>
/// <param name="StddevTokS">Its standard deviation over the repetitions (stddev_ts).</param>
/// <param name="Commit">The llama.cpp commit the binary was built from.</param>
/// <param name="BuildFlags">The cmake flags it was built with (recorded by ci/build-llama-cpp), or "unknown".</param>
/// <param name="Binary">The llama-bench that ran.</param>
public sealed record LlamaBenchRun(double DecodeTokS, double StddevTokS, string Commit, string BuildFlags, string Binary);
