using EdgeNode.Agent.Cli;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>--kv-precision: absent leaves the default of the weight precision, given overrides it, misspelt names the option.</summary>
public sealed class KvPrecisionArgumentTests
{
    private static ConversionOptions Read(params string[] args) => ConversionArguments.Read(new ArgumentReader("models", args)).Options;

    [Fact]
    public void AbsentTheCacheFollowsTheWeights()
    {
        Assert.Null(Read("--precision", "int4").KvPrecision);
        Assert.Equal(KvPrecision.Fp16, Read("--precision", "int4").EffectiveKvPrecision);
        Assert.Equal(KvPrecision.Fp32, Read("--precision", "int8").EffectiveKvPrecision);
        Assert.Equal(KvPrecision.Fp32, Read().EffectiveKvPrecision);
    }

    [Fact]
    public void GivenItOverridesTheDefault()
    {
        Assert.Equal(KvPrecision.Fp32, Read("--precision", "int4", "--kv-precision", "fp32").EffectiveKvPrecision);
        Assert.Equal(KvPrecision.Fp16, Read("--kv-precision=fp16").EffectiveKvPrecision);
    }

    [Fact]
    public void AnUnknownPrecisionIsOneLineNamingTheOption()
    {
        var e = Assert.Throws<UsageException>(() => Read("--kv-precision", "int8"));
        Assert.Equal("--kv-precision: unknown KV cache precision 'int8'; use fp16 or fp32", e.Message);
    }
}
