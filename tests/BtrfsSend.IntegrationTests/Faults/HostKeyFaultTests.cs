using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// The backup server's ssh host key is not the one prod-srv knows (a reinstalled server, or
/// someone in the middle): ssh refuses to connect, the producer says so in one line and sends,
/// records and keeps nothing.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class HostKeyFaultTests(FaultWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter", "ssh-keygen")]
    public async Task A_changed_server_host_key_is_refused_clearly_and_nothing_is_sent_or_recorded()
    {
        var world = await fixture.WorldAsync();
        var sshd = world.World.Sshd;
        var other = world.World.Dir.Sub("other-host-key");
        File.Delete(other);
        File.Delete(other + ".pub");
        await Run.OutAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other);
        var pub = (await File.ReadAllTextAsync(other + ".pub")).Split(' ');
        var knownHosts = world.World.Dir.Sub("known_hosts.changed");
        await File.WriteAllTextAsync(knownHosts, $"{sshd.HostKeyAlias} {pub[0]} {pub[1]}\n");
        var config = world.World.Dir.Sub("changed-host-key.conf");
        await world.World.WriteConfigAsync($"SSH_OPTIONS=(HostKeyAlias={sshd.HostKeyAlias} StrictHostKeyChecking=yes UserKnownHostsFile={knownHosts} GlobalKnownHostsFile=/dev/null)", config);
        world.ChangeSource();
        var before = world.Capture();
        var receiversBefore = world.ReceiverPids();

        var run = await world.RunAsync(config);

        Assert.True(run.ExitCode is not 0, "a run against a changed host key exited 0: " + run.Stderr);
        Assert.Contains("Host key verification failed", run.Stderr, StringComparison.Ordinal);
        world.AssertNothingChanged(before);
        Assert.Equal(receiversBefore, world.ReceiverPids());

        var next = await world.RunAsync();
        Assert.True(next.ExitCode == 0, "the run with the right host key failed: " + next.Stderr);
        await world.AssertNoDataLostAsync(before);
    }
}
