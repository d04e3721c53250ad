namespace EdgeNode.Governor;

/// <summary>Why the node is not taking work; several can hold at once, and all must clear before it resumes.</summary>
[Flags]
public enum DrainReasons
{
    None = 0,
    Thermal = 1,
    Battery = 2,
    Power = 4,
}
