using System.CommandLine;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Adopt;
using BtrfsSend.Receiver.Commands.Shared;
using Serilog;

namespace BtrfsSend.Receiver.Commands;

/// <summary>
/// <c>adopt [--set S] [--dry-run]</c>: a local admin verb on the backup server (never part of the
/// serve grammar) that takes over the streams the shell scripts stored (docs/migration.md).
/// </summary>
internal static class AdoptCommand
{
    public static Command Create(ILogger log)
    {
        var config = ReceiverConfig.CreateOption();
        var set = new Option<string?>("--set") { Description = "The backup set to adopt (default: BACKUP_SET from the config or environment)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print every decision (kind, parent and where it comes from, received_at, what is kept) and change nothing" };
        var adopt = new Command("adopt",
            "Take over the streams backup-receive-btrfs-stream.sh stored in a set: write a manifest of ours (origin=legacy) beside every stream that has none, " +
            "keep the scripts' manifest as <snapshot>.scripts-manifest (read-only), delete nothing; run it once on the backup server when switching over from the shell scripts")
        {
            config, set, dryRun,
        };
        adopt.SetAction((parse, _) =>
        {
            var options = ReceiverConfig.Load(parse.GetValue(config)!, log);
            var runLog = ReceiverConfig.WithLogFile(log, options);
            try
            {
                var target = parse.GetValue(set) is { } text
                    ? ReceiverConfig.ParseSet(text)
                    : options.BackupSet ?? throw new ConfigException("no set to adopt: give --set S, or BACKUP_SET in the config or environment");

                var outcome = new LegacyAdopter(new StreamStore(options.BackupRootDirPath), runLog).Adopt(target, parse.GetValue(dryRun), Console.Out);
                return Task.FromResult(outcome.Refused == 0 ? 0 : (int)ExitCode.Refused);
            }
            finally
            {
                ReceiverConfig.Close(runLog, log);
            }
        });
        return adopt;
    }
}
