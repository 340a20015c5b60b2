using BtrfsSend.Hosting;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Hosting;

public sealed class JournalStreamTests
{
    [Theory]
    [InlineData("64769:1234", true)]
    [InlineData("64769:1235", false)]
    [InlineData("64770:1234", false)]
    [InlineData("", false)]
    [InlineData("64769", false)]
    [InlineData("64769:1234:5", false)]
    [InlineData(" 64769:1234", false)]
    [InlineData("-1:1234", false)]
    [InlineData("0x fd01:1234", false)]
    [InlineData("64769:", false)]
    public void JOURNAL_STREAM_matches_only_the_exact_device_and_inode_of_stderr(string value, bool expected)
    {
        Assert.Equal(expected, JournalStream.Matches(value, (64769UL, 1234UL)));
    }

    [Fact]
    public void Without_the_variable_or_without_a_stat_of_stderr_it_is_never_the_journal()
    {
        Assert.False(JournalStream.Matches(null, (1UL, 2UL)));
        Assert.False(JournalStream.Matches("1:2", null));
    }

    [Fact]
    public async Task Fstat_reads_the_same_device_and_inode_as_stat_1()
    {
        using var temp = new TempDir("journal");
        var path = temp.Sub("stderr");
        File.WriteAllText(path, "");
        using var handle = File.OpenHandle(path);

        var ours = JournalStream.TryStat((int)handle.DangerousGetHandle());

        var theirs = (await Run.OutAsync("stat", "-c", "%d:%i", path)).Trim();
        Assert.NotNull(ours);
        Assert.Equal(theirs, $"{ours.Value.Device}:{ours.Value.Inode}");
    }

    [Fact]
    public void Fstat_of_a_closed_descriptor_is_null()
    {
        Assert.Null(JournalStream.TryStat(-1));
    }
}
