using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Restore;

/// <summary>What restore and verify read from the command line and the config: the set, where the streams are, and what opens them.</summary>
/// <param name="CanaryFilePath">CANARY_FILE from the config when one was read, else null.</param>
internal sealed record RestoreInputs(BackupSet Set, IRestoreSource Source, KeyFiles Keys, string? CanaryFilePath = null)
{
    /// <summary>LEDGER_FILE from the config when one was read, else null (restore --latest then has no floor).</summary>
    public string? LedgerFilePath { get; init; }
}
