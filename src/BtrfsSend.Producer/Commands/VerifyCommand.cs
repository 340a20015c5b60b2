using System.CommandLine;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Restore;
using Serilog;

namespace BtrfsSend.Producer.Commands;

/// <summary><c>verify --set S [--snapshot NAME | --all] [--from PATH | --config FILE] [--passphrase-file F | --key-file F]</c>.</summary>
internal static class VerifyCommand
{
    public static Command Create(ILogger log)
    {
        var inputs = new SourceOptions();
        var snapshot = new Option<string>("--snapshot")
        {
            Description = "Verify this snapshot's chain. Default: the newest stored snapshot's chain",
            Validators = { r => SourceOptions.CheckName(r, SnapshotName.Check) },
        };
        var all = new Option<bool>("--all") { Description = "Verify every stored stream, and report every broken chain" };
        var command = new Command("verify", "Decrypt and validate stored streams without receiving them (OpenPGP integrity, send-stream structure and CRC32C of every command); one OK/FAIL line per stream, non-zero exit if any fails");
        inputs.AddTo(command);
        command.Options.Add(snapshot);
        command.Options.Add(all);
        command.Validators.Add(r =>
        {
            if (r.GetValue(snapshot) is not null && r.GetValue(all))
            {
                r.AddError("give --snapshot NAME or --all, not both");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (set, source, keys) = inputs.Resolve(parse, new ToolRunner(), log);
            var name = parse.GetValue(snapshot) is { } text ? SnapshotName.Parse(text) : null;
            return await new ChainVerifier(source, keys, log).RunAsync(set, name, parse.GetValue(all), Console.Out, cancellationToken);
        });
        return command;
    }
}
