namespace BtrfsSend.TestSupport;

/// <summary>
/// A test that uses real tools (and root unless <see cref="NeedsRoot"/> is false). Skipped with
/// the reason when they are missing, except in CI (<c>CI=true</c>), where it runs and fails.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealFactAttribute(params string[] tools) : FactAttribute
{
    public bool NeedsRoot { get; set; } = true;

    public override string? Skip
    {
        get => base.Skip ?? RealSkip.Reason(NeedsRoot, tools);
        set => base.Skip = value;
    }
}
