using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Credits;

/// <summary>Which configured key a request presented, set by the key check for the handlers behind it.</summary>
internal static class CallerKey
{
    private static readonly object s_item = new();

    public static void Set(HttpContext context, int keyIndex) => context.Items[s_item] = keyIndex;

    /// <summary>The key's index among the configured keys; -1 when none is configured (or the path needs none).</summary>
    public static int Of(HttpContext context) => context.Items.TryGetValue(s_item, out var index) && index is int i ? i : -1;
}
