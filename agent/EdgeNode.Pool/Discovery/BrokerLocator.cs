using EdgeNode.Pool.Membership;

namespace EdgeNode.Pool.Discovery;

/// <summary>`--broker URL` when given, else the broker that answers mDNS for the pool's name.</summary>
public static class BrokerLocator
{
    public static async Task<BrokerAddress> ResolveAsync(string pool, string? broker, TimeSpan? discoveryTimeout = null, CancellationToken cancellationToken = default)
    {
        if (broker is not null)
            return BrokerAddress.Parse(broker);
        using var browser = new MdnsBrowser();
        var found = await browser.FindAsync(pool, discoveryTimeout ?? MdnsBrowser.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        return found.Broker;
    }
}
