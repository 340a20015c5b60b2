using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Restore;

[Collection(RestoreCollection.Name)]
public sealed class VerifyTests(RestoreWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Verify_all_over_ssh_reports_every_stream_OK()
    {
        var world = await fixture.WorldAsync();

        var verify = await world.ProducerAsync("verify", "--all", "--config", world.ConfigFilePath);

        Assert.True(verify.ExitCode == 0, verify.Stderr);
        var lines = verify.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.All(lines.Zip(world.Snapshots), p => Assert.StartsWith($"OK    {p.Second}", p.First, StringComparison.Ordinal));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Verify_reports_FAIL_for_the_damaged_stream_and_exits_8()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rverify");
        var copy = world.CopySet(dir);
        RestoreTests.FlipMiddleByte(Path.Combine(copy, world.Snapshots[2] + ".incr.btrfs.gpg"));

        var verify = await world.ProducerAsync("verify", "--set", RestoreWorld.Set, "--from", copy, "--passphrase-file", world.Gpg.PassphraseFilePath);

        Assert.Equal(8, verify.ExitCode);
        var lines = verify.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith($"OK    {world.Snapshots[1]}", lines[1], StringComparison.Ordinal);
        Assert.StartsWith($"FAIL  {world.Snapshots[2]}", lines[2], StringComparison.Ordinal);
        Assert.Contains("SHA-256", lines[2], StringComparison.Ordinal);
        Assert.StartsWith($"OK    {world.Snapshots[3]}", lines[3], StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Verify_with_a_wrong_passphrase_fails_every_stream()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rverify");
        var wrong = dir.Sub("wrong");
        await File.WriteAllTextAsync(wrong, "nope\n");

        var verify = await world.ProducerAsync("verify", "--all", "--config", world.ConfigFilePath, "--passphrase-file", wrong);

        Assert.Equal(8, verify.ExitCode);
        Assert.All(verify.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.Contains("wrong passphrase", l, StringComparison.Ordinal));
    }
}
