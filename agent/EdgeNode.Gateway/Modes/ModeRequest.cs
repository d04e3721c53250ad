namespace EdgeNode.Gateway.Modes;

/// <summary>What the picker weighs for one request.</summary>
/// <param name="Model">The served model asked for.</param>
/// <param name="Async">True for POST /v1/jobs: the caller does not wait for the answer.</param>
public sealed record ModeRequest(ModelRunner Model, bool Async);

/// <summary>Whether a mode can serve a request now; when not, <see cref="Reason"/> names what is missing.</summary>
public readonly record struct ModeAvailability(bool Available, string Reason)
{
    public static ModeAvailability Yes(string why) => new(true, why);

    public static ModeAvailability No(string missing) => new(false, missing);
}
