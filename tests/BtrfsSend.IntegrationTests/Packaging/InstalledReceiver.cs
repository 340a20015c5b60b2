using System.Security.Cryptography;
using System.Text.Json;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.IntegrationTests.Producer;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Packaging;

/// <summary>
/// The packaged receiver, /usr/sbin/btrfs-backup-receive (the native NativeAOT build that
/// scripts/build.sh makes), doing a backup server's real work: hello over ssh and a full and an
/// incremental backup by the producer through sshd's forced command, then <c>list --json</c>,
/// <c>check --json</c>, <c>prune --dry-run</c> and <c>replicate</c> to the real S3 server, all
/// configured by a receiver.conf whose values must take effect (KEEP_WITHIN in prune's reasons,
/// S3_PREFIX in the object keys). <see cref="PackageTests"/> runs it while the packages are
/// installed, so the native code is tested from the one publish the package test makes.
/// </summary>
internal static class InstalledReceiver
{
    public const string ProgramPath = "/usr/sbin/btrfs-backup-receive";
    private const string Set = "prod-srv/rootfs";
    private const string Prefix = "native/site-a";

    public static async Task DoesRealWorkAsync(CephS3Fixture ceph)
    {
        await AssertNativeAsync();
        var bucket = await ceph.CreateBucketAsync(objectLock: true);
        await using var world = await BackupWorld.CreateAsync(
            receiverConfig: "KEEP_WITHIN=3d\n" + ceph.ConfigLines(bucket, Prefix, "compliance", lockDays: 1),
            receiverProgram: ProgramPath);

        var hello = await SshCall.RunAsync(world.Sshd, "hello");
        Assert.True(hello.ExitCode == 0 && hello.Lines.Count == 1, hello.ToString());
        Assert.True(HelloLine.Parse(hello.Lines[0]).Value is { OffersSession: true } line && line.Supports(HelloLine.EncryptedStreamMode), hello.ToString());
        for (var run = 0; run < 2; run++)
        {
            var backup = await world.RunProducerAsync();
            Assert.True(backup.ExitCode == 0, backup.Stderr);
        }

        var streams = await ListAsync(world);
        await CheckAsync(world, offsitePending: 2);
        await PruneDryRunAsync(world, streams);
        await ReplicateAsync(world, ceph, bucket, streams);
        await CheckAsync(world, offsitePending: 0);
    }

    /// <summary>Not a .NET single-file bundle or apphost: an ELF executable with NativeAOT's managed-code section.</summary>
    private static async Task AssertNativeAsync()
    {
        var sections = await Run.OutAsync("readelf", "--section-headers", "--wide", ProgramPath);
        Assert.Contains("__managedcode", sections, StringComparison.Ordinal);
    }

    /// <summary><c>list --json</c>: the full and the incremental, each row matching the file stored (size and SHA-256).</summary>
    private static async Task<IReadOnlyList<string>> ListAsync(BackupWorld world)
    {
        var list = await Receiver(world, "list", "--json");
        using var json = JsonDocument.Parse(list.StandardOutput);
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(["full", "incremental"], rows.Select(r => r.GetProperty("kind").GetString()));
        Assert.Equal(rows[0].GetProperty("snapshot").GetString(), rows[1].GetProperty("parent").GetString());
        var files = new List<string>();
        foreach (var row in rows)
        {
            Assert.Equal(Set, row.GetProperty("set").GetString());
            var file = Assert.Single(Directory.GetFiles(world.SetDirPath, row.GetProperty("snapshot").GetString() + ".*.btrfs.gpg"));
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.Equal(bytes.LongLength, row.GetProperty("bytes").GetInt64());
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), row.GetProperty("sha256").GetString());
            files.Add(Path.GetFileName(file));
        }

        return files;
    }

    /// <summary><c>check --json</c>: OK, both streams, and the offsite numbers S3_BUCKET turns on.</summary>
    private static async Task CheckAsync(BackupWorld world, int offsitePending)
    {
        var check = await Receiver(world, "check", "--json", "--verify-data");
        using var json = JsonDocument.Parse(check.StandardOutput);
        Assert.Equal("OK", json.RootElement.GetProperty("status").GetString());
        var set = Assert.Single(json.RootElement.GetProperty("sets").EnumerateArray());
        Assert.Equal(Set, set.GetProperty("set").GetString());
        Assert.Equal(2, set.GetProperty("streams").GetInt32());
        Assert.Equal(2, set.GetProperty("verified").GetInt32());
        Assert.Equal(offsitePending, set.GetProperty("offsite_pending").GetInt32());
    }

    /// <summary><c>prune --dry-run</c>: the configured policy (KEEP_WITHIN=3d) keeps both, nothing is deleted.</summary>
    private static async Task PruneDryRunAsync(BackupWorld world, IReadOnlyList<string> streams)
    {
        var before = Directory.GetFiles(world.SetDirPath).Order(StringComparer.Ordinal).ToList();
        var prune = await Receiver(world, "prune", "--set", Set, "--dry-run");
        var lines = prune.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines[0].StartsWith($"# set {Set}: policy ", StringComparison.Ordinal) && lines[0].Contains("KEEP_WITHIN=3d", StringComparison.Ordinal), lines[0]);
        Assert.Equal($"# set {Set}: would keep 2, delete 0, free 0 bytes (dry run: nothing deleted)", lines[^1]);
        var decisions = lines[1..^1];
        Assert.Equal(2, decisions.Length);
        Assert.All(decisions, l => Assert.True(l.StartsWith("keep", StringComparison.Ordinal) && l.Contains("within 3d", StringComparison.Ordinal), prune.StandardOutput));
        Assert.Equal(before, Directory.GetFiles(world.SetDirPath).Order(StringComparer.Ordinal));
        Assert.All(streams, s => Assert.Contains(Path.Combine(world.SetDirPath, s), before));
    }

    /// <summary><c>replicate</c>: one summary line, every stream and manifest in the bucket under S3_PREFIX, bit for bit.</summary>
    private static async Task ReplicateAsync(BackupWorld world, CephS3Fixture ceph, string bucket, IReadOnlyList<string> streams)
    {
        var replicate = await Receiver(world, "replicate");
        Assert.Contains("replicate OK: 1 set(s), uploaded 2 stream(s)", replicate.StandardErrorTail, StringComparison.Ordinal);
        foreach (var name in streams.Concat(streams.Select(s => s[..s.IndexOf('.', StringComparison.Ordinal)] + ".manifest")))
        {
            using var get = await ceph.Client.GetObjectAsync(bucket, $"{Prefix}/{Set}/{name}");
            var copy = new MemoryStream();
            await get.ResponseStream.CopyToAsync(copy);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(world.SetDirPath, name)), copy.ToArray());
        }
    }

    /// <summary>Runs the installed receiver with the world's receiver.conf; it must exit 0.</summary>
    private static async Task<ToolResult> Receiver(BackupWorld world, params string[] args)
    {
        var result = await Run.TryAsync([ProgramPath, .. args, "--config", world.ReceiverConfigFilePath]);
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', args)} exited {result.ExitCode}: {result.StandardOutput}{result.StandardErrorTail}");
        return result;
    }
}
