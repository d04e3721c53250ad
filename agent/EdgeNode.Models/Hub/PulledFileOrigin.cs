namespace EdgeNode.Models.Hub;

/// <summary>How a pulled file got into the models folder.</summary>
public enum PulledFileOrigin
{
    /// <summary>It was already there with the right hash; nothing was transferred.</summary>
    AlreadyPresent,

    /// <summary>Downloaded over HTTP (possibly resuming an earlier partial download).</summary>
    Downloaded,

    /// <summary>Copied from the local mirror folder.</summary>
    CopiedFromMirror,
}
