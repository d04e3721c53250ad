namespace EdgeNode.Models.Hub;

/// <summary>A model could not be pulled; the message says what went wrong and what to do.</summary>
public class ModelPullException : Exception
{
    public ModelPullException(string message) : base(message) { }

    public ModelPullException(string message, Exception inner) : base(message, inner) { }
}
