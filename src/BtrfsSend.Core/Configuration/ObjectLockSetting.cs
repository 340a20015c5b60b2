namespace BtrfsSend.Core.Configuration;

/// <summary>S3_LOCK_MODE: how objects written to an Object Lock bucket are retained.</summary>
public enum ObjectLockSetting
{
    /// <summary>COMPLIANCE: nobody, not even the bucket's owner, can delete or shorten before retain-until.</summary>
    Compliance,

    /// <summary>GOVERNANCE: like COMPLIANCE, but a user with s3:BypassGovernanceRetention can lift it.</summary>
    Governance,

    /// <summary>Objects are written without a retention period.</summary>
    None,
}
