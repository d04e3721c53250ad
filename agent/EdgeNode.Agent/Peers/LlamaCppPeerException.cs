namespace EdgeNode.Agent.Peers;

/// <summary>The llama.cpp peer could not be started, failed, timed out or printed something unreadable.</summary>
public sealed class LlamaCppPeerException : Exception
{
    public LlamaCppPeerException(string message) : base(message) { }

    public LlamaCppPeerException(string message, Exception inner) : base(message, inner) { }
}
