using EdgeNode.Agent.Cli;
using EdgeNode.Pool.Discovery;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;
using EdgeNode.Pool.Security;

namespace EdgeNode.Agent.Commands;

/// <summary>
/// `edgenode generate --pool NAME [--broker URL] --model NAME`: finds the model's chain through the pool's broker (as
/// an observer, as `pool status` does: it publishes nothing) and generates through its entry node.
/// </summary>
public static partial class GenerateCommand
{
    /// <summary>How long to wait for the retained plan of the model once connected.</summary>
    private static readonly TimeSpan PlanWait = TimeSpan.FromSeconds(3);

    public static int RunThroughNamedPool(string pool, ArgumentReader args, TextWriter stdout)
    {
        var brokerText = args.String("broker");
        var secret = args.String("pool-secret") ?? Environment.GetEnvironmentVariable(PoolSecretVariable);
        var model = args.Required("model", "NAME (a model the pool serves; see 'edgenode pool status')");
        if (!PoolProtocol.IsValidName(pool))
            throw new UsageException($"--pool '{pool}' is not a valid pool name: use 1 to 63 letters, digits, '-', '_' or '.'");
        PoolPlan plan;
        try
        {
            plan = FindPlanAsync(pool, brokerText, model, string.IsNullOrEmpty(secret) ? null : secret).GetAwaiter().GetResult();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--broker: {e.Message}");
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"edgenode: {e.Message}");
            return 1;
        }
        return RunThroughPool(plan.Assignments[0].DataEndpoint, args, stdout,
            string.IsNullOrEmpty(secret) ? null : new PoolHandshake(pool, secret));
    }

    /// <summary>The pool's secret when it is not on the command line (it then stays out of the process list).</summary>
    private const string PoolSecretVariable = "EDGENODE_POOL_SECRET";

    private static async Task<PoolPlan> FindPlanAsync(string pool, string? brokerText, string model, string? secret)
    {
        var broker = await BrokerLocator.ResolveAsync(pool, brokerText).ConfigureAwait(false);
        // With a secret the broker login is the pool's (user: the pool's name), unless the URL names one.
        var login = secret is not null && broker.UserName is null;
        await using var membership = new PoolMembership(new MembershipOptions
        {
            Pool = pool, Broker = broker, UserName = login ? pool : null, Password = login ? secret : null,
        }, ownNodeId: null);
        await membership.StartAsync(null).ConfigureAwait(false);
        static bool Serves(PlanMessage? p) => p is { Plan.Assignments.Count: > 0 };
        try
        {
            var view = await membership.WaitForAsync(v => Serves(v.Plans.GetValueOrDefault(model)), PlanWait, $"a plan for model '{model}'").ConfigureAwait(false);
            return view.Plans[model].Plan;
        }
        catch (TimeoutException)
        {
            var plans = membership.View.Plans;
            var served = plans.Where(p => Serves(p.Value)).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
            var why = plans.GetValueOrDefault(model) is { Unplanned: { } unplanned } ? $" (the pool's leader says: {unplanned})" : "";
            throw new IOException($"pool '{pool}' (broker {broker}) has no chain for model '{model}'{why}; "
                + (served.Count == 0 ? "it serves no model yet: are its nodes up (edgenode pool status)?" : $"models with a chain: {string.Join(", ", served)}"));
        }
    }
}
