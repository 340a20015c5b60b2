using System.CommandLine;
using BtrfsSend.Core.Naming;
using BtrfsSend.Producer.Restore;

namespace BtrfsSend.Producer.Commands.Shared;

/// <summary>
/// Which stored snapshot restore, verify and extract work on: <c>--snapshot NAME</c> (checked as a
/// snapshot name), <c>--latest</c> (restore and extract; verify does not add it) and
/// <c>--allow-rollback</c>, which lets the newest stored snapshot be used even when it is older than
/// the newest acknowledged upload in LEDGER_FILE. Each command words the help for itself and adds
/// the options where its <c>--help</c> lists them, through <see cref="SourceOptions.AddTo"/>.
/// </summary>
internal sealed class SnapshotOptions(string snapshotHelp, string allowRollbackHelp, string? latestHelp = null)
{
    public Option<string> Snapshot { get; } = new("--snapshot")
    {
        Description = snapshotHelp,
        Validators = { r => SourceOptions.CheckName(r, SnapshotName.Check) },
    };

    public Option<bool> Latest { get; } = new("--latest") { Description = latestHelp };

    public Option<bool> AllowRollback { get; } = new("--allow-rollback") { Description = allowRollbackHelp };

    /// <summary>The snapshot <c>--snapshot</c> names, or null for the newest stored.</summary>
    public SnapshotName? NameOf(ParseResult parse) => parse.GetValue(Snapshot) is { } text ? SnapshotName.Parse(text) : null;

    /// <summary>LEDGER_FILE, the floor the newest stored snapshot must reach, or null when there is none or <c>--allow-rollback</c> lifts it.</summary>
    public string? RollbackLedgerOf(ParseResult parse, RestoreInputs resolved) => parse.GetValue(AllowRollback) ? null : resolved.LedgerFilePath;
}
