namespace EdgeNode.Models.Hub;

/// <summary>A fetched file did not hash to what it must; the pull goes on with the other files and reports it at the end.</summary>
public sealed class FileHashMismatchException(string message) : ModelPullException(message);
