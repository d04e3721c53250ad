using System.Net.Sockets;
using System.Net;
using EdgeNode.Pool.Bench;
using EdgeNode.Pool.Discovery;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Tests.Support;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Discovery;

/// <summary>mDNS tests share UDP 5353 of the test's own namespace: one collection, so they run one after another.</summary>
[Collection("mdns")]
public sealed class DiscoveryTests
{
    [NetnsFact]
    public async Task A_node_in_another_namespace_finds_the_broker_by_pool_name()
    {
        using var lab = NetworkLab.Create(hosts: 3);
        var pool = Nodes.UniquePool();
        // Host 0 hosts the broker on every address (0.0.0.0): the answer must carry its address on the link.
        await using var advertiser = NamespaceThread.Run(lab.Hosts[0], () => new MdnsAdvertiser(pool, new BrokerAddress("0.0.0.0", 1883)));
        // Host 1 advertises another pool on the same link: the browser must not take it.
        await using var other = NamespaceThread.Run(lab.Hosts[1], () => new MdnsAdvertiser("other-pool", new BrokerAddress("0.0.0.0", 1884)));

        using var browser = NamespaceThread.Run(lab.Hosts[2], () => new MdnsBrowser());
        DiscoveredBroker found;
        try
        {
            found = await browser.FindAsync(pool, TimeSpan.FromSeconds(8));
        }
        catch (IOException e)
        {
            var interfaces = string.Join(" ; ", lab.Hosts.Select(h => h.Namespace + ": " + string.Join(",", NamespaceThread.Run(h,
                () => System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().Select(n => $"{n.Name}/{n.OperationalStatus}/{n.SupportsMulticast}")))));
            throw new IOException($"{e.Message}; advertiser answered {advertiser.Answered}, the other {other.Answered}; interfaces {interfaces}", e);
        }
        Assert.Equal(pool, found.Pool);
        Assert.Equal(lab.Hosts[0].Address, found.Broker.Host);
        Assert.Equal(1883, found.Broker.Port);
        Assert.Equal(IPAddress.Parse(lab.Hosts[0].Address), found.Responder.Address);
        Assert.True(advertiser.Answered >= 1);
    }

    [NetnsFact]
    public async Task Nothing_answering_fails_with_an_error_naming_the_pool()
    {
        using var lab = NetworkLab.Create(hosts: 2);
        await using var other = NamespaceThread.Run(lab.Hosts[0], () => new MdnsAdvertiser("someone-else", new BrokerAddress("0.0.0.0", 1883)));
        using var browser = NamespaceThread.Run(lab.Hosts[1], () => new MdnsBrowser());
        // Long enough for the other pool's answer to arrive on a loaded machine: the error names the pools that did answer.
        var error = await Assert.ThrowsAsync<IOException>(() => browser.FindAsync("missing-pool", TimeSpan.FromSeconds(8)));
        Assert.Contains("no broker for pool 'missing-pool'", error.Message, StringComparison.Ordinal);
        Assert.Contains("pool 'someone-else'", error.Message, StringComparison.Ordinal);
        Assert.Contains("--broker", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_one_host_the_answer_comes_back_over_loopback_and_a_malformed_query_is_survived()
    {
        var pool = Nodes.UniquePool();
        await using var advertiser = new MdnsAdvertiser(pool, new BrokerAddress("192.0.2.77", 1999));
        using (var junk = new UdpClient())
        {
            junk.Client.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
            await junk.SendAsync(new byte[] { 1, 2, 3 }, MdnsService.Group);   // shorter than a DNS header
        }
        using var browser = new MdnsBrowser();
        var found = await browser.FindAsync(pool, TimeSpan.FromSeconds(5));
        Assert.Equal(new BrokerAddress("192.0.2.77", 1999), found.Broker);
    }

    [Fact]
    public void Dns_records_survive_a_round_trip_and_compressed_names_are_read()
    {
        var message = new DnsMessage(7, true, [new DnsQuestion(MdnsService.ServiceType, DnsType.Ptr)],
        [
            new DnsRecord(MdnsService.ServiceType, DnsType.Ptr, 120) { Target = "closet._edgenode._tcp.local" },
            new DnsRecord("closet._edgenode._tcp.local", DnsType.Srv, 120) { Target = "board.local", Port = 1883, CacheFlush = true },
            new DnsRecord("closet._edgenode._tcp.local", DnsType.Txt, 120) { Text = ["pool=closet", "broker=mqtt://10.0.0.2:1883", "v=1"] },
            new DnsRecord("board.local", DnsType.A, 120) { Address = IPAddress.Parse("10.0.0.2") },
        ]);
        var back = DnsMessage.Decode(message.Encode());
        Assert.Equal(message.Questions, back.Questions);
        Assert.Equal("closet._edgenode._tcp.local", back.Answers[0].Target);
        Assert.Equal((ushort)1883, back.Answers[1].Port);
        Assert.True(back.Answers[1].CacheFlush);
        Assert.Equal(["pool=closet", "broker=mqtt://10.0.0.2:1883", "v=1"], back.Answers[2].Text);
        Assert.Equal(IPAddress.Parse("10.0.0.2"), back.Answers[3].Address);

        // A PTR whose target points back into the question's name (compression, RFC 1035 §4.1.4).
        byte[] compressed =
        [
            0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0,
            9, .. "_edgenode"u8, 4, .. "_tcp"u8, 5, .. "local"u8, 0, 0, 12, 0, 1,
            0xC0, 12, 0, 12, 0, 1, 0, 0, 0, 120, 0, 9, 6, .. "closet"u8, 0xC0, 12,
        ];
        var read = DnsMessage.Decode(compressed);
        Assert.Equal("closet._edgenode._tcp.local", read.Answers.Single().Target);
        Assert.Throws<FormatException>(() => DnsMessage.Decode(compressed.AsSpan(0, compressed.Length - 3)));
    }
}
