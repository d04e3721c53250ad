namespace EdgeNode.Agent;

internal static class CommandLine
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("edgenode: no command yet");
        return args.Length == 0 ? 2 : 2;
    }
}
