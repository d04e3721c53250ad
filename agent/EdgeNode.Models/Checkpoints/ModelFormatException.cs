namespace EdgeNode.Models;

/// <summary>
/// A model or tokenizer file that cannot be used. The message names the file, the field or tensor at fault,
/// what was found against what was expected, and what to do about it.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException()
    {
    }

    public ModelFormatException(string message)
        : base(message)
    {
    }

    public ModelFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
