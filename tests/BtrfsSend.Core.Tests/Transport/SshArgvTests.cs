using System.Diagnostics;
using BtrfsSend.Core.Transport;
using BtrfsSend.TestSupport;

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
    public void The_default_cipher_preference_comes_after_the_extra_options_so_a_Ciphers_option_there_wins()
    {
        var argv = new SshArgv { Target = "u@h", DefaultCiphers = SshArgv.AesGcmFirst, ExtraOptions = ["Ciphers=aes256-ctr"] }.For("hello");

        var joined = string.Join('|', argv);
        Assert.EndsWith($"|-o|Ciphers=aes256-ctr|-o|Ciphers={SshArgv.AesGcmFirst}|u@h|--|hello", joined);
    }

    [Fact]
    public void SSH_CIPHER_replaces_the_default_cipher_preference()
    {
        var argv = new SshArgv { Target = "u@h", Cipher = "aes256-ctr", DefaultCiphers = SshArgv.AesGcmFirst }.For("hello");

        Assert.Contains("aes256-ctr", argv);
        Assert.DoesNotContain(argv, a => a.StartsWith("Ciphers=", StringComparison.Ordinal));
    }

    [Fact]
    public void On_a_CPU_with_AES_instructions_the_AES_GCM_ciphers_are_preferred()
    {
        var hardware = System.Runtime.Intrinsics.X86.Aes.IsSupported || System.Runtime.Intrinsics.Arm.Aes.IsSupported;

        Assert.Equal(hardware ? SshArgv.AesGcmFirst : null, SshArgv.DefaultCiphersForThisCpu);
    }

    [RealFact("ssh", NeedsRoot = false)]
    public void The_real_ssh_client_takes_the_preference_in_order_and_lets_an_explicit_Ciphers_option_win()
    {
        Assert.Equal(SshArgv.AesGcmFirst, EffectiveCiphers(new SshArgv { Target = "u@h", DefaultCiphers = SshArgv.AesGcmFirst }));
        Assert.Equal("aes256-ctr", EffectiveCiphers(new SshArgv { Target = "u@h", DefaultCiphers = SshArgv.AesGcmFirst, ExtraOptions = ["Ciphers=aes256-ctr"] }));
    }

    /// <summary>What `ssh -G` (print the configuration, connect nowhere) says the ciphers are for this argv.</summary>
    private static string EffectiveCiphers(SshArgv ssh)
    {
        var argv = ssh.For("hello");
        var start = new ProcessStartInfo("ssh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-G");
        start.ArgumentList.Add("-F");
        start.ArgumentList.Add("/dev/null");
        foreach (var arg in argv[1..^3])
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add(argv[^3]);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, process.StandardError.ReadToEnd());
        return output.Split('\n').Single(l => l.StartsWith("ciphers ", StringComparison.Ordinal))["ciphers ".Length..];
    }

    [Fact]
    public void An_empty_remote_command_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new SshArgv { Target = "u@h" }.For(""));
    }
}
