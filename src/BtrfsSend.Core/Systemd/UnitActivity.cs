namespace BtrfsSend.Core.Systemd;

/// <summary>What <c>systemctl is-active</c> said about one unit (see <see cref="IsActiveAnswer"/>).</summary>
public enum UnitActivity
{
    /// <summary>active, reloading, activating, deactivating, ...: anything that may be running; it is stopped.</summary>
    Running,

    /// <summary>inactive or failed: not running, left alone.</summary>
    NotRunning,

    /// <summary>unknown: systemd does not know the unit (a misspelt name?); left alone with a warning.</summary>
    NotKnown,
}
