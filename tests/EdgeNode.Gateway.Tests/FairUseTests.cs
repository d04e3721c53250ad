using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EdgeNode.Gateway.FairUse;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>Token buckets per API key and per client address: a burst past the limit is answered 429 with Retry-After.</summary>
public sealed class FairUseTests
{
    private const string First = "sk-edgenode-fair-first";
    private const string Second = "sk-edgenode-fair-second";

    private static HttpResponseMessage Get(HttpClient http, string url, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (key is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http.Send(request);
    }

    private static int AssertRateLimited(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var retryAfter = Assert.Single(response.Headers.GetValues("Retry-After"));
        var seconds = int.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture);   // whole seconds, no date
        Assert.InRange(seconds, 1, 60);
        using var body = JsonDocument.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("try again", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        return seconds;
    }

    [Fact]
    public void AKeyPastItsBurstGets429UntilItsTokenComesBackAndOtherKeysAreNotLimited()
    {
        using var home = TestPaths.NewTempDirectory("serve-fair-key");
        // 30 a minute is one token every 2 s: the refill is slow enough that the burst cannot refill mid-test.
        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--key-rpm", "30", "--key-burst", "3"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = $"{First},{Second}" });
        using var http = new HttpClient();
        var models = server.ApiBase + "/models";

        for (var i = 0; i < 3; i++)
        {
            using var ok = Get(http, models, First);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        int wait;
        using (var limited = Get(http, models, First))
            wait = AssertRateLimited(limited);
        Assert.InRange(wait, 1, 2);

        // The second key has its own bucket, untouched by the first's.
        for (var i = 0; i < 3; i++)
        {
            using var other = Get(http, models, Second);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        Thread.Sleep(TimeSpan.FromSeconds(wait));
        using var after = Get(http, models, First);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public void AnAddressPastItsBurstGets429EvenWithoutKeys()
    {
        using var home = TestPaths.NewTempDirectory("serve-fair-ip");
        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--ip-rpm", "60", "--ip-burst", "2"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = null });
        using var http = new HttpClient();
        var models = server.ApiBase + "/models";
        for (var i = 0; i < 2; i++)
        {
            using var ok = Get(http, models, null);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        int wait;
        using (var limited = Get(http, models, null))
            wait = AssertRateLimited(limited);
        Thread.Sleep(TimeSpan.FromSeconds(wait));
        using var after = Get(http, models, null);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public void PagesSpendTheAddressAllowanceButNoKeys()
    {
        using var home = TestPaths.NewTempDirectory("serve-fair-pages");
        const string Key = "sk-edgenode-fair-pages";
        using var server = ServeProcess.Start(
            ["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--key-rpm", "6", "--key-burst", "1", "--ip-rpm", "6", "--ip-burst", "3"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = Key });
        using var http = new HttpClient();
        foreach (var page in new[] { "/", "/chat" })
        {
            using var served = Get(http, server.BaseUrl + page, null);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
        // The key's one token is still there: the pages took none of it, only two of the address's three.
        using (var api = Get(http, server.ApiBase + "/models", Key))
            Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        using var limited = Get(http, server.BaseUrl + "/", null);
        AssertRateLimited(limited);
    }

    [Fact]
    public void IdleAddressBucketsAreSweptSoMemoryStaysBounded()
    {
        long now = 0;
        var limits = new ClientLimits(new RateLimit(0, 0), new RateLimit(60, 5), 0, () => now);
        for (var i = 0; i < 1000; i++)
            limits.TakeForAddress(new IPAddress([10, 0, (byte)(i >> 8), (byte)i]));
        Assert.Equal(1000, limits.TrackedAddresses);
        // Two addresses in one IPv6 /64 share a bucket.
        limits.TakeForAddress(IPAddress.Parse("2001:db8::1"));
        limits.TakeForAddress(IPAddress.Parse("2001:db8::2"));
        Assert.Equal(1001, limits.TrackedAddresses);

        // 5 tokens at 1/s refill in 5 s; a minute later every bucket is full, so all are dropped.
        now += System.Diagnostics.Stopwatch.Frequency * 60;
        limits.TakeForAddress(IPAddress.Parse("192.0.2.1"));
        Assert.Equal(1, limits.TrackedAddresses);
    }

    [Fact]
    public void AFullBucketRefusesWithTheWholeSecondsUntilItsNextToken()
    {
        long now = 0;
        var limits = new ClientLimits(new RateLimit(12, 2), new RateLimit(0, 0), 2, () => now);
        limits.TakeForKey(0);
        limits.TakeForKey(0);
        var refused = Assert.Throws<Api.ApiError>(() => limits.TakeForKey(0));
        Assert.Equal(429, refused.Status);
        Assert.Equal(5, refused.RetryAfterSeconds);   // 12 a minute: one token every 5 s
        limits.TakeForKey(1);                          // the other key is untouched
        now += System.Diagnostics.Stopwatch.Frequency * 5;
        limits.TakeForKey(0);
        Assert.Equal(1, limits.Limited);
    }
}
