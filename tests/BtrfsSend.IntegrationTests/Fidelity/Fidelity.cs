using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Fidelity;

/// <summary>What btrfs send itself does not carry, as docs/fidelity.md lists it; each is shown by <see cref="BtrfsSendLimitTests"/>.</summary>
internal static class Fidelity
{
    /// <summary>The differences a restored copy may show against its source, and only these.</summary>
    public static readonly TreeAllowance[] Limits = [.. TreeAllowance.BtrfsSendLimits];
}
