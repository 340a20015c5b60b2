using BtrfsSend.Core.Configuration;
using BtrfsSend.Receiver.Serve;

namespace BtrfsSend.Receiver.Tests.Serve;

public sealed class ClientTextTests
{
    private static readonly ReceiverOptions Options = new()
    {
        BackupRootDirPath = "/srv/backups",
        LuksMountDirPath = "/mnt/luks",
        ReceivedRootDirPath = "/mnt/luks/received",
        LogFilePath = "/var/log/btrfs-backup-receive.log",
    };

    [Theory]
    [InlineData("BACKUP_ROOT /srv/backups does not exist; mount it", "BACKUP_ROOT does not exist; mount it")]
    [InlineData("only 5 bytes free under /srv/backups/prod-srv/rootfs, below MIN_FREE_SPACE=9", "only 5 bytes free under BACKUP_ROOT/prod-srv/rootfs, below MIN_FREE_SPACE=9")]
    [InlineData("RECEIVED_ROOT /mnt/luks/received does not exist", "RECEIVED_ROOT does not exist")]
    [InlineData("I/O error: Access to the path '/etc/shadow' is denied.", "I/O error: Access to the path '<path>' is denied.")]
    [InlineData("disk full (No space left on device : '/tmp/x/.tmp-1')", "disk full (No space left on device : '<path>')")]
    [InlineData("client 'prod' may not use backup set 'prod-srv/rootfs'; set names may use a-z / and -", "client 'prod' may not use backup set 'prod-srv/rootfs'; set names may use a-z / and -")]
    public void A_message_for_the_client_names_configured_directories_by_their_key_and_hides_every_other_absolute_path(string message, string expected)
        => Assert.Equal(expected, ClientText.WithoutPaths(message, Options));
}
