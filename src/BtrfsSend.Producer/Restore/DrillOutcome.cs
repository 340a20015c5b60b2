namespace BtrfsSend.Producer.Restore;

/// <summary>The monitoring (Nagios plugin) exit codes of <c>verify --restore-test</c>.</summary>
internal enum DrillOutcome
{
    /// <summary>Restored and the canary matched the manifest.</summary>
    Ok = 0,

    /// <summary>Restored, but there was no canary token to compare with.</summary>
    Warning = 1,

    /// <summary>The restore failed, or the canary is missing or does not match.</summary>
    Critical = 2,

    /// <summary>The test could not run (usage, config, scratch directory, keys).</summary>
    Unknown = 3,
}
