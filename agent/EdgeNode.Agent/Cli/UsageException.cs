namespace EdgeNode.Agent.Cli;

/// <summary>The command line itself is wrong: exit code 2 and a pointer to --help.</summary>
public sealed class UsageException(string message) : Exception(message);
