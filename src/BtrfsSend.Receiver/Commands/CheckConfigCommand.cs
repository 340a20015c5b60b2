using System.CommandLine;
using BtrfsSend.Receiver.Commands.Shared;
using Serilog;

namespace BtrfsSend.Receiver.Commands;

/// <summary>
/// <c>check-config [--config FILE]</c>: loads and validates the receiver's settings (file plus
/// environment) exactly as every verb does and touches nothing: for ExecStartPre= and after an
/// edit. One line on success; every problem, one line each, and the config exit code otherwise.
/// </summary>
internal static class CheckConfigCommand
{
    public static Command Create(ILogger log)
    {
        var config = ReceiverConfig.CreateOption();
        var command = new Command("check-config", "Validate the settings as every verb loads them (file and environment) and change nothing") { config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var filePath = parse.GetValue(config)!;
            var options = ReceiverConfig.Load(filePath, log);
            await Console.Out.WriteLineAsync($"{filePath}: configuration valid (BACKUP_ROOT {options.BackupRootDirPath})".AsMemory(), cancellationToken);
            return 0;
        });
        return command;
    }
}
