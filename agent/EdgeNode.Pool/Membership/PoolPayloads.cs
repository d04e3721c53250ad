using System.Buffers;
using System.Text.Json;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Pool.Membership;

/// <summary>
/// Encodes and checks the control plane's payloads. A payload that fails a check is not an error of the receiver:
/// it is reported with a reason and ignored, so one bad publisher cannot stop a pool.
/// </summary>
public static class PoolPayloads
{
    public static byte[] Encode(NodeState state) => JsonSerializer.SerializeToUtf8Bytes(state, PoolJsonContext.Default.NodeState);

    public static byte[] Encode(PlanMessage plan) => JsonSerializer.SerializeToUtf8Bytes(plan, PoolJsonContext.Default.PlanMessage);

    /// <summary>Reads a node state published on the topic of <paramref name="topicNodeId"/>; null with a reason when it is unusable.</summary>
    public static NodeState? DecodeState(string topicNodeId, ReadOnlySequence<byte> payload, out string? reason)
    {
        NodeState? state;
        try
        {
            var reader = new Utf8JsonReader(payload);
            state = JsonSerializer.Deserialize(ref reader, PoolJsonContext.Default.NodeState);
        }
        catch (JsonException e)
        {
            reason = $"malformed JSON ({e.Message})";
            return null;
        }
        if (state is null)
        {
            reason = "payload is JSON null";
            return null;
        }
        if (state.ProtocolVersion != PoolProtocol.Version)
        {
            reason = $"protocol version {state.ProtocolVersion}, this node speaks {PoolProtocol.Version}";
            return null;
        }
        // Source-generated reading leaves an absent field at its type's default (null), not at the initializer's
        // value: optional lists and strings are normalised here, once, so no reader meets a null.
        state = state with
        {
            AgentVersion = state.AgentVersion ?? "",
            DataEndpoint = state.DataEndpoint ?? "",
            Models = state.Models ?? [],
            Refusals = state.Refusals ?? [],
        };
        if (state.Models.Any(m => m is null) || state.Refusals.Any(r => r is null))
        {
            reason = "a null entry in models or refusals";
            return null;
        }
        state = state with
        {
            Models = [.. state.Models.Select(m => m with { Sha256 = m.Sha256 ?? "" })],
            Refusals = [.. state.Refusals.Select(r => r with { Model = r.Model ?? "", Reason = r.Reason ?? "" })],
        };
        if (state.NodeId != topicNodeId)
        {
            reason = $"payload names node '{state.NodeId}' but was published on the topic of node '{topicNodeId}'";
            return null;
        }
        if (state.WeightsMaxBytes < 0 || state.WeightsFreeBytes < 0 || state.KvBudgetBytes < 0)
        {
            reason = "negative memory figures";
            return null;
        }
        foreach (var m in state.Models)
        {
            if (!PoolProtocol.IsValidName(m.Name) || m.Layers <= 0 || m.BytesPerLayer < 0 || m.EmbedBytes < 0 || m.HeadBytes < 0
                || m.TokenizerBytes < 0 || m.MsPerLayer is < 0 or double.NaN)
            {
                reason = $"model entry '{m.Name}' has an invalid name, layer count or size";
                return null;
            }
        }
        reason = null;
        return state;
    }

    /// <summary>Reads a plan published on the plan topic of <paramref name="topicModel"/> in <paramref name="pool"/>.</summary>
    public static PlanMessage? DecodePlan(string pool, string topicModel, ReadOnlySequence<byte> payload, out string? reason)
    {
        PlanMessage? message;
        try
        {
            var reader = new Utf8JsonReader(payload);
            message = JsonSerializer.Deserialize(ref reader, PoolJsonContext.Default.PlanMessage);
        }
        catch (JsonException e)
        {
            reason = $"malformed JSON ({e.Message})";
            return null;
        }
        if (message?.Plan is null)
        {
            reason = "payload has no plan";
            return null;
        }
        if (message.ProtocolVersion != PoolProtocol.Version)
        {
            reason = $"protocol version {message.ProtocolVersion}, this node speaks {PoolProtocol.Version}";
            return null;
        }
        message = message with { Leader = message.Leader ?? "", Excluded = message.Excluded ?? [] };
        var plan = message.Plan;
        if (plan.Pool != pool || plan.Model != topicModel)
        {
            reason = $"plan names pool '{plan.Pool}' model '{plan.Model}' but was published on pool '{pool}' model '{topicModel}'";
            return null;
        }
        if (plan.Epoch <= 0)
        {
            reason = $"epoch {plan.Epoch} is not positive";
            return null;
        }
        if (plan.Assignments is null)
        {
            reason = "plan has no assignment list";
            return null;
        }
        // The chain must be contiguous from layer 0, embedding first and head last: a data plane obeying anything
        // else would compute garbage.
        var next = 0;
        for (var i = 0; i < plan.Assignments.Count; i++)
        {
            var a = plan.Assignments[i];
            if (a is null || a.FirstLayer != next || a.EndLayer <= a.FirstLayer || a.Embed != (i == 0) || a.Head != (i == plan.Assignments.Count - 1))
            {
                reason = $"assignment {i} breaks the chain (layers must be contiguous from 0, at least one per node, embedding on the first, head on the last)";
                return null;
            }
            next = a.EndLayer;
        }
        reason = null;
        return message;
    }
}
