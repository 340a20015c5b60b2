using BtrfsSend.Core.Transport;

namespace BtrfsSend.Core.Tests.Transport;

public sealed class SshArgvTests
{
    [Fact]
    public void The_default_argv_is_batch_mode_with_keepalives_and_the_command_after_a_double_dash()
    {
        var argv = new SshArgv { Target = "btrfs-ingest@backup-srv" }.For("hello");

        Assert.Equal(
            "ssh|-o|BatchMode=yes|-o|ClearAllForwardings=yes|-o|RequestTTY=no|-o|ServerAliveInterval=15|-o|ServerAliveCountMax=3|btrfs-ingest@backup-srv|--|hello",
            string.Join('|', argv));
    }

    [Fact]
    public void Port_identity_cipher_and_extra_options_come_before_the_target()
    {
        var argv = new SshArgv
        {
            Target = "u@h",
            Port = 2222,
            IdentityFilePath = "/root/.ssh/backup key",
            Cipher = "aes128-gcm@openssh.com",
            ExtraOptions = ["UserKnownHostsFile=/k"],
        }.For("receive-stream a/b x-20260101T000000Z full");

        Assert.Equal(
            "ssh|-o|BatchMode=yes|-o|ClearAllForwardings=yes|-o|RequestTTY=no|-o|ServerAliveInterval=15|-o|ServerAliveCountMax=3|-p|2222|-i|/root/.ssh/backup key|-o|IdentitiesOnly=yes|-c|aes128-gcm@openssh.com|-o|UserKnownHostsFile=/k|u@h|--|receive-stream a/b x-20260101T000000Z full",
            string.Join('|', argv));
    }

    [Fact]
    public void An_empty_remote_command_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new SshArgv { Target = "u@h" }.For(""));
    }
}
