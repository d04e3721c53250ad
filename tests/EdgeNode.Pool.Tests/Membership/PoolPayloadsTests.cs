using System.Buffers;
using System.Text;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;
using EdgeNode.Pool.Tests.Support;

namespace EdgeNode.Pool.Tests.Membership;

public sealed class PoolPayloadsTests
{
    private static ReadOnlySequence<byte> Utf8(string s) => new(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void A_state_round_trips_with_lowercase_status_and_snake_case_fields()
    {
        var state = Nodes.State("board-a", 4000) with { Sensors = new NodeSensors { TemperatureC = 51.5 } };
        var json = Encoding.UTF8.GetString(PoolPayloads.Encode(state));
        Assert.Contains("\"status\":\"serving\"", json, StringComparison.Ordinal);
        Assert.Contains("\"v\":1", json, StringComparison.Ordinal);
        Assert.Contains("\"weights_max_bytes\":4000", json, StringComparison.Ordinal);
        Assert.DoesNotContain("power_w", json, StringComparison.Ordinal);   // absent sensors are left out, not null
        var back = PoolPayloads.DecodeState("board-a", Utf8(json), out var reason);
        Assert.Null(reason);
        Assert.Equal(state.Models, back!.Models);
        Assert.Equal(51.5, back.Sensors!.TemperatureC);
    }

    [Fact]
    public void A_minimal_state_reads_with_empty_lists_not_nulls()
    {
        var back = PoolPayloads.DecodeState("tiny", Utf8("""{"v":1,"node_id":"tiny","status":"joining"}"""), out var reason);
        Assert.Null(reason);
        Assert.Empty(back!.Models);
        Assert.Empty(back.Refusals);
        Assert.Equal("", back.DataEndpoint);
        Assert.Equal(NodeStatus.Joining, back.Status);
    }

    [Theory]
    [InlineData("""{"node_id":"a"}""", "protocol version 0")]
    [InlineData("""{"v":1,"node_id":"a","status":"sleeping"}""", "malformed JSON")]
    [InlineData("""{"v":1,"node_id":"a","models":[{"name":"x/#","layers":5}]}""", "invalid name")]
    [InlineData("""{"v":1,"node_id":"a","weights_max_bytes":-5}""", "negative memory")]
    [InlineData("""[1,2]""", "malformed JSON")]
    public void Bad_states_are_refused_with_a_reason(string json, string expected)
    {
        Assert.Null(PoolPayloads.DecodeState("a", Utf8(json), out var reason));
        Assert.Contains(expected, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_fence_takes_only_newer_epochs_and_breaks_ties_by_leader_id()
    {
        var fence = new PlanFence();
        PlanMessage Plan(long epoch, string leader, string model = "m") => new()
        {
            Leader = leader, Plan = new PoolPlan("p", model, epoch, [new SliceAssignment(leader, 0, 5, true, true, "h:1")]),
        };
        Assert.True(fence.TryAccept(Plan(5, "n2"), out _));
        Assert.False(fence.TryAccept(Plan(4, "n1"), out var stale));
        Assert.Contains("stale epoch 4", stale, StringComparison.Ordinal);
        Assert.False(fence.TryAccept(Plan(5, "n2"), out var same));
        Assert.Null(same);                                     // a redelivery is not news and not an error
        Assert.False(fence.TryAccept(Plan(5, "n3"), out var loser));
        Assert.Contains("precedes", loser, StringComparison.Ordinal);
        Assert.True(fence.TryAccept(Plan(5, "n1"), out _));    // two leaders, one epoch: the lower id wins everywhere
        Assert.True(fence.TryAccept(Plan(3, "n1", "other"), out _));   // epochs are fenced per model
        Assert.Equal(5, fence.HighestEpoch);
    }

    [Theory]
    [InlineData("mqtt://10.0.0.2", "10.0.0.2", 1883, false, null)]
    [InlineData("mqtts://broker.lan", "broker.lan", 8883, true, null)]
    [InlineData("board:1999", "board", 1999, false, null)]
    [InlineData("mqtt://pool:s3cret@10.0.0.2:1884", "10.0.0.2", 1884, false, "pool")]
    public void Broker_addresses_parse(string text, string host, int port, bool tls, string? user)
    {
        var b = BrokerAddress.Parse(text);
        Assert.Equal((host, port, tls, user), (b.Host, b.Port, b.Tls, b.UserName));
        Assert.DoesNotContain("s3cret", b.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_broker_address_with_another_scheme_is_refused_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => BrokerAddress.Parse("http://10.0.0.2"));
        Assert.Contains("use mqtt:// or mqtts://", e.Message, StringComparison.Ordinal);
    }
}
