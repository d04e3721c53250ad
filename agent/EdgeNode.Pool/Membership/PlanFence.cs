namespace EdgeNode.Pool.Membership;

/// <summary>
/// Decides whether a plan replaces the one in force for its model. A leader numbers a new plan above every epoch it
/// has seen in the pool (so epochs only move forward, across models too); a plan whose epoch is not above the one in
/// force for its model is stale and refused, so two plans of a model never serve at once. (The check is per model:
/// retained plans of different models arrive in any order after a subscribe.)
/// Two leaders that briefly disagree may issue the same epoch; the plan of the lower leader id wins everywhere.
/// </summary>
public sealed class PlanFence
{
    private readonly Dictionary<string, PlanMessage> _current = new(StringComparer.Ordinal);

    public long HighestEpoch { get; private set; }

    public IReadOnlyDictionary<string, PlanMessage> Current => _current;

    /// <summary>Accepts <paramref name="candidate"/> or returns why not.</summary>
    public bool TryAccept(PlanMessage candidate, out string? reason)
    {
        var epoch = candidate.Plan.Epoch;
        _current.TryGetValue(candidate.Plan.Model, out var held);
        if (held is not null && epoch == held.Plan.Epoch)
        {
            if (string.CompareOrdinal(candidate.Leader, held.Leader) >= 0)
            {
                reason = held.Leader == candidate.Leader ? null : $"epoch {epoch} is already held from leader '{held.Leader}', which precedes '{candidate.Leader}'";
                // The same plan again (a retained redelivery after a reconnect) is neither news nor an error.
                return false;
            }
        }
        else if (held is not null && epoch < held.Plan.Epoch)
        {
            reason = $"stale epoch {epoch} for model '{candidate.Plan.Model}': epoch {held.Plan.Epoch} is in force";
            return false;
        }
        _current[candidate.Plan.Model] = candidate;
        HighestEpoch = Math.Max(HighestEpoch, epoch);
        reason = null;
        return true;
    }

    /// <summary>A model's plan topic was cleared: nothing serves it any more; the epoch floor stays.</summary>
    public bool Remove(string model) => _current.Remove(model);
}
