using BtrfsSend.Core.Manifests;
using BtrfsSend.Producer.Restore;
using Snapshooter.Xunit;
using static BtrfsSend.Producer.Tests.Restore.RestoreLinks;

namespace BtrfsSend.Producer.Tests.Restore;

public sealed class RestoreTextTests
{
    private static readonly KeyFiles Passphrase = new("/etc/btrfs-send-backup/pass phrase", null, null);

    [Fact]
    public void Dry_run_from_a_directory_prints_the_chain_and_checked_gpg_commands_in_order()
    {
        var chain = WithManifests(Linear(3));
        TargetLinkState[] states =
        [
            new(TargetLinkKind.Present, "already there (read-only, received_uuid 1234)"),
            new(TargetLinkKind.Absent, "not there yet"),
            new(TargetLinkKind.Absent, "not there yet"),
        ];

        Snapshot.Match(RestoreText.Plan(Set, new PrintOnlySource("/mnt/usb/rootfs", true), chain, states, "/mnt/restore", Passphrase).Split('\n'));
    }

    [Fact]
    public void Dry_run_over_ssh_with_a_secret_key_imports_it_and_says_which_files_to_copy()
    {
        var keys = new KeyFiles(null, "/root/restore-key.asc", null);

        Snapshot.Match(RestoreText.Plan(Set, new PrintOnlySource("backup@backup-srv (over ssh)", false), Linear(2),
            [new(TargetLinkKind.Absent, "not there yet"), new(TargetLinkKind.Conflict, "/mnt/restore/x exists and is not a btrfs subvolume")], "/mnt/restore", keys).Split('\n'));
    }

    [Fact]
    public void List_shows_chain_lengths_and_broken_chains()
    {
        IReadOnlyList<RestoreLink> stored = [Full(0, 1 << 30), Incremental(1, 0, 5 << 20), Incremental(3, 2)];

        Snapshot.Match(RestoreText.List(Set, new PrintOnlySource("/srv/backup", true), RestorePlan.Restorable(stored)).Split('\n'));
    }

    [Fact]
    public void By_hand_commands_quote_file_names_for_the_shell()
    {
        Assert.Equal("gpg --batch --pinentry-mode loopback --passphrase-file '/etc/btrfs-send-backup/pass phrase' --decrypt '/tmp/it'\\''s.gpg'",
            Passphrase.ByHandDecrypt("/tmp/it's.gpg"));
    }

    private static IReadOnlyList<RestoreLink> WithManifests(IReadOnlyList<RestoreLink> links) => links.Select(l => l with
    {
        Manifest = new Manifest
        {
            Set = Set,
            Snapshot = l.Snapshot,
            Kind = l.Kind,
            Parent = l.Parent,
            StreamBytes = l.Bytes,
            StreamSha256 = new string((char)('a' + l.Snapshot.TimestampUtc.Hour), 64),
            Encryption = StreamEncryption.OpenPgpSymmetric,
            Compression = StreamCompression.None,
            SendProto = 1,
            ReceivedAtUtc = new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc),
            Client = "prod-srv",
        },
    }).ToList();

    /// <summary>Only what the text needs from a source: it is never read from here.</summary>
    private sealed class PrintOnlySource(string description, bool hasManifests) : IRestoreSource
    {
        public string Description => description;

        public bool HasManifests => hasManifests;

        public Task<IReadOnlyList<RestoreLink>> ListAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task PreverifyAsync(RestoreLink link, IProgress<long>? progress = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task ReadAsync(RestoreLink link, Func<CheckedEndStream, CancellationToken, Task> consume, IProgress<long>? progress = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public string ByHandFilePath(RestoreLink link) => hasManifests ? Path.Combine(description, link.StreamFileName) : link.StreamFileName;
    }
}
