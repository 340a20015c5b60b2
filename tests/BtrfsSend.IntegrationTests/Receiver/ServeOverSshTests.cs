using System.Globalization;
using System.Security.Cryptography;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Receiver;

/// <summary>The receiver's verbs through a real sshd, the real forced command and sudo: what a producer sees.</summary>
public sealed class ServeOverSshTests
{
    [RealFact("/usr/sbin/sshd", "ssh", "sudo", "gpg", "stat")]
    public async Task A_full_and_an_incremental_sent_over_ssh_are_stored_0400_root_listed_oldest_first_and_got_back_identical()
    {
        using var gpg = new GpgFixture();
        await using var receiver = await SshReceiver.StartAsync(["CLIENT_prod-srv=\"prod-srv/\""], client: "prod-srv");
        var plainFull = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var plainIncr = RandomNumberGenerator.GetBytes(200 * 1024 + 3);
        var full = await EncryptAsync(gpg, plainFull);
        var incr = await EncryptAsync(gpg, plainIncr);
        var fullName = SshReceiver.Snapshot(TimeSpan.FromHours(-2));
        var incrName = SshReceiver.Snapshot(TimeSpan.FromHours(-1));
        var before = DateTime.UtcNow.AddSeconds(-1);

        var hello = await receiver.RunAsync("hello");
        var fullOk = await receiver.SendFullAsync(SshReceiver.Set, fullName, full);
        var incrOk = await receiver.RunAsync(SshReceiver.IncrementalCommand(SshReceiver.Set, incrName, fullName), SshReceiver.Framed(incr));
        var list = await receiver.RunAsync($"list {SshReceiver.Set}");
        var got = await receiver.RunAsync($"get {SshReceiver.Set} {fullName}");
        var gotIncr = await receiver.RunAsync($"get {SshReceiver.Set} {incrName}");

        Assert.True(hello.ExitCode == 0, hello.ToString());
        Assert.Matches(@"^btrfs-send-receiver \S+ proto=1 modes=encrypted-stream session=1$", Assert.Single(hello.Lines));
        Assert.True(fullOk.ExitCode == 0, fullOk.ToString());
        Assert.Equal($"OK {Hex(SHA256.HashData(full))} {full.Length}", Assert.Single(fullOk.Lines));
        Assert.True(incrOk.ExitCode == 0, incrOk.ToString());
        Assert.Equal($"OK {Hex(SHA256.HashData(incr))} {incr.Length}", Assert.Single(incrOk.Lines));

        var dir = receiver.SetDirPath(SshReceiver.Set);
        Assert.Equal(
            new[] { $"{fullName}.full.btrfs.gpg", $"{fullName}.manifest", $"{incrName}.incr.btrfs.gpg", $"{incrName}.manifest" }.Order(StringComparer.Ordinal),
            receiver.FilesIn(SshReceiver.Set));
        foreach (var file in receiver.FilesIn(SshReceiver.Set))
        {
            Assert.Equal("400 root:root", await SshReceiver.ModeAndOwnerAsync(Path.Combine(dir, file)));
        }

        Assert.Equal(full, await File.ReadAllBytesAsync(Path.Combine(dir, $"{fullName}.full.btrfs.gpg")));
        Assert.Equal(incr, await File.ReadAllBytesAsync(Path.Combine(dir, $"{incrName}.incr.btrfs.gpg")));
        var fullManifest = ReadManifest(Path.Combine(dir, $"{fullName}.manifest"));
        var incrManifest = ReadManifest(Path.Combine(dir, $"{incrName}.manifest"));
        Assert.Equal((SshReceiver.Set, fullName, StreamKind.Full, (string?)null, (long)full.Length, Hex(SHA256.HashData(full)), StreamEncryption.OpenPgpSymmetric, "prod-srv"),
            (fullManifest.Set.Value, fullManifest.Snapshot.Value, fullManifest.Kind, fullManifest.Parent?.Value, fullManifest.StreamBytes, fullManifest.StreamSha256, fullManifest.Encryption, fullManifest.Client));
        Assert.Equal((SshReceiver.Set, incrName, StreamKind.Incremental, (string?)fullName, (long)incr.Length, Hex(SHA256.HashData(incr)), StreamEncryption.OpenPgpSymmetric, "prod-srv"),
            (incrManifest.Set.Value, incrManifest.Snapshot.Value, incrManifest.Kind, incrManifest.Parent?.Value, incrManifest.StreamBytes, incrManifest.StreamSha256, incrManifest.Encryption, incrManifest.Client));
        Assert.InRange(fullManifest.ReceivedAtUtc, before, DateTime.UtcNow.AddSeconds(1));

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal(2, list.Lines.Count);
        var received = fullManifest.ReceivedAtUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        Assert.Equal($"{fullName} full - {full.Length} {received}", list.Lines[0]);
        Assert.StartsWith($"{incrName} incremental {fullName} {incr.Length} ", list.Lines[1], StringComparison.Ordinal);

        Assert.True(got.ExitCode == 0, got.ToString());
        Assert.Equal(full, await Unframe(got.StandardOutput));
        Assert.Equal(incr, await Unframe(gotIncr.StandardOutput));
        Assert.Equal(plainFull, await DecryptAsync(gpg, await Unframe(got.StandardOutput)));
        Assert.Empty(Directory.GetFileSystemEntries(receiver.CanaryDirPath));
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task Sending_a_stored_snapshot_again_is_refused_and_the_stored_file_is_unchanged()
    {
        await using var receiver = await SshReceiver.StartAsync();
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));
        var original = SshReceiver.Encrypted(64 * 1024);
        var forged = SshReceiver.Encrypted(64 * 1024);
        var first = await receiver.SendFullAsync(SshReceiver.Set, name, original);
        var filesBefore = receiver.FilesIn(SshReceiver.Set);

        var again = await receiver.SendFullAsync(SshReceiver.Set, name, forged);
        var asIncremental = await receiver.RunAsync(SshReceiver.IncrementalCommand(SshReceiver.Set, name, SshReceiver.Snapshot(TimeSpan.FromHours(-3))), SshReceiver.Framed(forged));

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(5, again.ExitCode);
        Assert.StartsWith("ERR exists ", Assert.Single(again.Lines), StringComparison.Ordinal);
        Assert.NotEqual(0, asIncremental.ExitCode);
        Assert.StartsWith("ERR ", Assert.Single(asIncremental.Lines), StringComparison.Ordinal);
        Assert.Equal(filesBefore, receiver.FilesIn(SshReceiver.Set));
        Assert.Equal(original, await File.ReadAllBytesAsync(Path.Combine(receiver.SetDirPath(SshReceiver.Set), $"{name}.full.btrfs.gpg")));
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task An_incremental_whose_parent_is_not_stored_is_refused_before_anything_is_written()
    {
        await using var receiver = await SshReceiver.StartAsync();
        var payload = SshReceiver.Encrypted(64 * 1024);
        var fullName = SshReceiver.Snapshot(TimeSpan.FromHours(-3));
        var ghost = SshReceiver.Snapshot(TimeSpan.FromHours(-2));
        var incrName = SshReceiver.Snapshot(TimeSpan.FromHours(-1));

        var intoEmptySet = await receiver.RunAsync(SshReceiver.IncrementalCommand("prod-srv/empty", incrName, ghost), SshReceiver.Framed(payload));
        var full = await receiver.SendFullAsync(SshReceiver.Set, fullName, payload);
        var filesBefore = receiver.FilesIn(SshReceiver.Set);
        var missingParent = await receiver.RunAsync(SshReceiver.IncrementalCommand(SshReceiver.Set, incrName, ghost), SshReceiver.Framed(payload));

        Assert.Equal(5, intoEmptySet.ExitCode);
        Assert.StartsWith("ERR missing-parent ", Assert.Single(intoEmptySet.Lines), StringComparison.Ordinal);
        Assert.False(Directory.Exists(receiver.SetDirPath("prod-srv/empty")), "a refused upload created its set directory");
        Assert.True(full.ExitCode == 0, full.ToString());
        Assert.Equal(5, missingParent.ExitCode);
        Assert.StartsWith("ERR missing-parent ", Assert.Single(missingParent.Lines), StringComparison.Ordinal);
        Assert.Equal(filesBefore, receiver.FilesIn(SshReceiver.Set));
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task Snapshot_names_far_in_the_future_or_past_are_refused_as_clock_skew()
    {
        await using var receiver = await SshReceiver.StartAsync(["MAX_CLOCK_SKEW=24h"]);
        var payload = SshReceiver.Encrypted(4096);

        var future = await receiver.SendFullAsync(SshReceiver.Set, SshReceiver.Snapshot(TimeSpan.FromDays(3)), payload);
        var farFuture = await receiver.SendFullAsync(SshReceiver.Set, "rootfs-20991231T235959Z", payload);
        var past = await receiver.SendFullAsync(SshReceiver.Set, SshReceiver.Snapshot(TimeSpan.FromDays(-3)), payload);
        var epoch = await receiver.SendFullAsync(SshReceiver.Set, "rootfs-19700101T000000Z", payload);
        var withinSkew = await receiver.SendFullAsync(SshReceiver.Set, SshReceiver.Snapshot(TimeSpan.FromHours(-23)), payload);

        foreach (var outcome in new[] { future, farFuture, past, epoch })
        {
            Assert.Equal(5, outcome.ExitCode);
            Assert.StartsWith("ERR clock-skew ", Assert.Single(outcome.Lines), StringComparison.Ordinal);
        }

        Assert.True(withinSkew.ExitCode == 0, withinSkew.ToString());
        Assert.Equal(2, receiver.FilesIn(SshReceiver.Set).Count);
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_client_pinned_to_its_prefix_cannot_touch_another_set()
    {
        await using var receiver = await SshReceiver.StartAsync(["CLIENT_prod-srv=\"prod-srv/\"", "CLIENT_other=\"other/\""], client: "prod-srv");
        var payload = SshReceiver.Encrypted(4096);
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));

        var upload = await receiver.SendFullAsync("other/x", name, payload);
        var list = await receiver.RunAsync("list other/x");
        var get = await receiver.RunAsync($"get other/x {name}");
        var bare = await receiver.SendFullAsync("prod-srv", name, payload);
        var own = await receiver.SendFullAsync("prod-srv/home", name, payload);

        foreach (var outcome in new[] { upload, list, get })
        {
            Assert.Equal(5, outcome.ExitCode);
            Assert.StartsWith("ERR forbidden ", Assert.Single(outcome.Lines), StringComparison.Ordinal);
        }

        Assert.Equal(5, bare.ExitCode);
        Assert.StartsWith("ERR forbidden ", Assert.Single(bare.Lines), StringComparison.Ordinal);
        Assert.True(own.ExitCode == 0, own.ToString());
        Assert.Equal(new[] { "prod-srv", "prod-srv/home" },
            Directory.GetDirectories(receiver.BackupRootDirPath, "*", SearchOption.AllDirectories).Select(d => Path.GetRelativePath(receiver.BackupRootDirPath, d)).Order(StringComparer.Ordinal));
        Assert.False(Directory.Exists(receiver.SetDirPath("other/x")));
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_stream_over_MAX_STREAM_SIZE_is_refused_as_too_large_and_nothing_is_kept()
    {
        await using var receiver = await SshReceiver.StartAsync(["MAX_STREAM_SIZE=1M"]);
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));

        var outcome = await receiver.RunAsync(SshReceiver.FullCommand(SshReceiver.Set, name), SshReceiver.Generated(3L * 1024 * 1024));
        await receiver.WaitForReceiversToExitAsync();
        var list = await receiver.RunAsync($"list {SshReceiver.Set}");

        Assert.Equal(5, outcome.ExitCode);
        Assert.StartsWith("ERR too-large ", Assert.Single(outcome.Lines), StringComparison.Ordinal);
        Assert.Empty(receiver.FilesIn(SshReceiver.Set));
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Empty(list.Lines);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static Manifest ReadManifest(string path)
    {
        var parsed = ManifestReader.Parse(File.ReadAllBytes(path), path);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors));
        return parsed.Manifest!;
    }

    private static async Task<byte[]> Unframe(byte[] framed)
    {
        await using var reader = new Bsf1Reader(new MemoryStream(framed));
        var result = new MemoryStream();
        await reader.CopyToAsync(result);
        Assert.True(reader.IsComplete, "the framed answer has no valid trailer");
        return result.ToArray();
    }

    private static async Task<byte[]> EncryptAsync(GpgFixture gpg, byte[] plain)
    {
        var cipher = new MemoryStream();
        await Cli.Wrap("gpg").WithArguments(gpg.GpgWithPassphrase("--symmetric", "--cipher-algo", "AES256", "--compress-algo", "none").Skip(1))
            .WithStandardInputPipe(PipeSource.FromBytes(plain)).WithStandardOutputPipe(PipeTarget.ToStream(cipher)).ExecuteAsync();
        return cipher.ToArray();
    }

    private static async Task<byte[]> DecryptAsync(GpgFixture gpg, byte[] cipher)
    {
        var plain = new MemoryStream();
        await Cli.Wrap("gpg").WithArguments(gpg.GpgWithPassphrase("--decrypt").Skip(1))
            .WithStandardInputPipe(PipeSource.FromBytes(cipher)).WithStandardOutputPipe(PipeTarget.ToStream(plain)).ExecuteAsync();
        return plain.ToArray();
    }
}
