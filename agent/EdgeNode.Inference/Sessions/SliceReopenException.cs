namespace EdgeNode.Inference.Sessions;

/// <summary>
/// Slice sessions closed for a re-open at another thread count could not be opened at it; the message says whether they
/// run at their old count again or are unloaded (<see cref="SliceSessionGroup.IsLoaded"/>).
/// </summary>
public sealed class SliceReopenException(string message, Exception inner) : Exception(message, inner);
