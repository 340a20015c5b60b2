namespace BtrfsSend.TestSupport;

/// <summary>The <see cref="TheoryAttribute"/> twin of <see cref="RealFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealTheoryAttribute(params string[] tools) : TheoryAttribute
{
    public bool NeedsRoot { get; set; } = true;

    public override string? Skip
    {
        get => base.Skip ?? RealSkip.Reason(NeedsRoot, tools);
        set => base.Skip = value;
    }
}
