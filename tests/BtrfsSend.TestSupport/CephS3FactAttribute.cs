namespace BtrfsSend.TestSupport;

/// <summary>
/// A test against the real S3 server (<see cref="CephS3Fixture"/>). Skipped with the reason on a
/// machine without root or Ceph's packages, except in CI (<c>CI=true</c>), where it runs and fails.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CephS3FactAttribute : FactAttribute
{
    public override string? Skip
    {
        get => base.Skip ?? RealSkip.Reason(needsRoot: true, CephS3Server.Tools);
        set => base.Skip = value;
    }
}
