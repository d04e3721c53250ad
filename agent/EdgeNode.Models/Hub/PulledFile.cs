namespace EdgeNode.Models.Hub;

/// <summary>A file of a pulled model, verified and in place.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="Sha256">Its sha256 in lowercase hex.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Origin">How it got there.</param>
public sealed record PulledFile(string Path, string Sha256, long Bytes, PulledFileOrigin Origin);
