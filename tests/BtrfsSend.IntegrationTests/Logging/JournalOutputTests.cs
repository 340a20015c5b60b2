using System.Text.RegularExpressions;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Logging;

/// <summary>
/// The real programs' stderr when systemd connects it to the journal (JOURNAL_STREAM names its
/// device and inode): sd-daemon priority prefixes on every line, so <c>journalctl -p err</c>
/// works; anywhere else the usual timestamped lines.
/// </summary>
public sealed partial class JournalOutputTests
{
    /// <summary>Runs the receiver's check-config on a file with an unknown key (warning) and an invalid value (error), stderr to a file.</summary>
    private static async Task<string[]> StderrLinesAsync(Func<string, Task<string?>> journalStream)
    {
        using var temp = new TempDir("journal");
        var config = temp.Sub("receiver.conf");
        File.WriteAllText(config, "NO_SUCH_SETTING=1\nMAX_STREAM_SIZE=lots\n");
        var stderr = temp.Sub("stderr");
        File.WriteAllText(stderr, "");
        var value = await journalStream(stderr);

        var result = await Run.TryAsync("bash", "-c", "exec env -u JOURNAL_STREAM ${1:+JOURNAL_STREAM=\"$1\"} \"${@:3}\" 2>\"$2\"", "bash",
            value ?? "", stderr, ProgramBinaries.Receiver, "check-config", "--config", config);

        Assert.Equal(3, result.ExitCode);
        var lines = File.ReadAllLines(stderr).Where(l => l.Length > 0).ToArray();
        Assert.True(lines.Length >= 3, string.Join('\n', lines));
        return lines;
    }

    private static async Task<string?> DeviceAndInodeAsync(string path) => (await Run.OutAsync("stat", "-c", "%d:%i", path)).Trim();

    [Fact]
    public async Task With_JOURNAL_STREAM_naming_stderr_every_line_starts_with_its_priority()
    {
        var lines = await StderrLinesAsync(DeviceAndInodeAsync);

        Assert.All(lines, l => Assert.Matches(Prefixed(), l));
        Assert.Contains(lines, l => l.StartsWith("<4>[WRN] config: ", StringComparison.Ordinal) && l.Contains("NO_SUCH_SETTING", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("<3>[ERR] ", StringComparison.Ordinal) && l.Contains("MAX_STREAM_SIZE", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => Timestamped().IsMatch(l));
    }

    [Fact]
    public async Task Without_JOURNAL_STREAM_lines_carry_timestamps_and_no_priority()
    {
        var lines = await StderrLinesAsync(_ => Task.FromResult<string?>(null));

        Assert.All(lines, l => Assert.DoesNotMatch(Prefixed(), l));
        Assert.Contains(lines, l => Timestamped().IsMatch(l) && l.Contains("[ERR]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_JOURNAL_STREAM_inherited_from_a_unit_but_naming_another_file_is_ignored()
    {
        // A child of a service whose stderr was redirected (a pipe, a file) still has the variable.
        using var other = new TempDir("journal-other");
        File.WriteAllText(other.Sub("f"), "");
        var elsewhere = await DeviceAndInodeAsync(other.Sub("f"));

        var lines = await StderrLinesAsync(_ => Task.FromResult(elsewhere));

        Assert.All(lines, l => Assert.DoesNotMatch(Prefixed(), l));
    }

    [GeneratedRegex(@"^<[2-7]>\[(FTL|ERR|WRN|INF|DBG|VRB)\] ")]
    private static partial Regex Prefixed();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d \[")]
    private static partial Regex Timestamped();
}
