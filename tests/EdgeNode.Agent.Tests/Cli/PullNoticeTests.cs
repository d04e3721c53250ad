using EdgeNode.Agent.Commands;
using EdgeNode.Models.Hub;

namespace EdgeNode.Agent.Tests.Cli;

public sealed class PullNoticeTests
{
    [Fact]
    public void FilesOnlyTheMirrorVouchesForAreNamedUnverifiedOnOneLine()
    {
        PulledFile[] unverified =
        [
            new("/m/stories15M/stories15M.bin", new string('a', 64), 10, PulledFileOrigin.CopiedFromMirror, DigestSource.Mirror),
            new("/m/stories15M/tokenizer.bin", new string('b', 64), 10, PulledFileOrigin.CopiedFromMirror, DigestSource.Mirror),
        ];

        var notice = ModelsCommand.UnverifiedNotice("stories15M", unverified);

        Assert.DoesNotContain('\n', notice);
        Assert.StartsWith("edgenode: stories15M.bin, tokenizer.bin of stories15M: unverified", notice, StringComparison.Ordinal);
        Assert.Contains("pull without EDGENODE_MODEL_MIRROR", notice, StringComparison.Ordinal);
    }
}
