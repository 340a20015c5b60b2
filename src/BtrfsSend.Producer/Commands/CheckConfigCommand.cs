using System.CommandLine;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Producer.Commands.Shared;
using Serilog;

namespace BtrfsSend.Producer.Commands;

/// <summary>
/// <c>check-config [--config FILE]</c>: loads and validates prod.conf exactly as a backup run
/// does (key files present, values in range) and touches nothing: for ExecStartPre= and after an
/// edit. One line on success; every problem, one line each, and the config exit code otherwise.
/// </summary>
internal static class CheckConfigCommand
{
    public static Command Create(ILogger log)
    {
        var config = ProducerConfig.CreateOption();
        var command = new Command("check-config", "Validate the configuration as a backup run would (key files, values, ranges) and change nothing") { config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var filePath = parse.GetValue(config)!;
            var options = ProducerConfig.Load(filePath, log);
            await Console.Out.WriteLineAsync($"{filePath}: configuration valid (BACKUP_MODE {(options.Mode == BackupMode.RemoteBtrfs ? "remote-btrfs" : "encrypted-stream")}, BACKUP_SET {options.BackupSet})".AsMemory(), cancellationToken);
            return 0;
        });
        return command;
    }
}
