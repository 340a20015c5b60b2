namespace BtrfsSend.IntegrationTests.Packaging;

/// <summary>
/// The package test installs /etc/default/btrfs-backup-receive for a minute, which a receiver
/// started without --config would read: it runs alone, after every parallel test of the project.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PackageCollection
{
    public const string Name = "debian packages";
}
