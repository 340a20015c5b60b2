using System.CommandLine;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Commands.Shared;
using BtrfsSend.Receiver.Serve;
using Serilog;

namespace BtrfsSend.Receiver.Commands;

/// <summary>
/// <c>serve [--config FILE] [--client NAME] -- COMMAND</c>: the authorized_keys forced command.
/// COMMAND is <c>"$SSH_ORIGINAL_COMMAND"</c>, taken verbatim as the last argument after
/// <c>--</c> and parsed only by the core grammar — never as an option.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(TimeProvider clock)
    {
        var config = ReceiverConfig.CreateOption();
        var client = new Option<string?>("--client")
        {
            Description = "The client this SSH key belongs to, pinned in authorized_keys; limits it to its CLIENT_<name> set prefixes",
        };
        var command = new Argument<string>("command")
        {
            Description = "SSH_ORIGINAL_COMMAND, verbatim, after --",
        };
        var serve = new Command("serve", "Forced command for sshd (authorized_keys command=\"sudo -n btrfs-backup-receive serve -- \\\"$SSH_ORIGINAL_COMMAND\\\"\"): answers one protocol request on stdin/stdout")
        {
            config, client, command,
        };
        serve.SetAction(async (parse, cancellationToken) =>
        {
            // The client is the --client pin from authorized_keys, else the sudo user (README, security model),
            // never anything the client sends.
            var clientName = parse.GetValue(client) ?? SudoUser();
            var raw = parse.GetValue(command) ?? "";
            await using var stdout = Console.OpenStandardOutput();

            // sshd forwards stderr to the client: until LOG_FILE is known the detail goes to syslog.
            await using var startLog = ServeLog.Create(Program.Name, logFilePath: null);
            if (clientName is not null && ClientName.Problem(clientName) is { } problem)
            {
                startLog.Error("--client '{Client}' in authorized_keys is invalid: {Problem}", NameText.Printable(clientName), problem);
                await WriteInternalAsync(stdout, startLog);
                return (int)ExitCode.Config;
            }

            Core.Configuration.ReceiverOptions options;
            try
            {
                options = ReceiverConfig.Load(parse.GetValue(config)!, startLog);
            }
            catch (ConfigException ex)
            {
                startLog.Error("{Message}", ex.Message);
                await WriteInternalAsync(stdout, startLog);
                return (int)ExitCode.Config;
            }

            // Disposing flushes LOG_FILE: the refusal line is the last one written and must not be lost.
            await using var sessionLog = ServeLog.Create(Program.Name, options.LogFilePath);
            EnlargeStdinPipe();
            await using var stdin = new StdinStream(0);
            var session = new ServeSession(options, clientName, stdin, stdout, sessionLog, clock);
            return await session.RunAsync(raw, cancellationToken);
        });
        return serve;
    }

    /// <summary>
    /// A 1 MiB stdin pipe (F_SETPIPE_SZ) lets sshd hand over more per read(2) and keeps both sides
    /// busy instead of taking turns (docs/architecture.md). Best effort: stdin may not be a pipe, or the
    /// size may exceed /proc/sys/fs/pipe-max-size; then it stays as it is.
    /// </summary>
    private static void EnlargeStdinPipe() => _ = Core.Storage.Native.Fcntl(0, Core.Storage.Native.FSetPipeSize, 1 << 20);

    private static string? SudoUser()
    {
        var user = Environment.GetEnvironmentVariable("SUDO_USER");
        return user is not null && ClientName.Problem(user) is null ? user : null;
    }

    private static async Task WriteInternalAsync(Stream stdout, ILogger log)
    {
        const string message = "the backup server's receiver is misconfigured; its admin must check the receiver's log (syslog)";
        log.ForContext(ServeLog.ToClientProperty, true).Error("refused ({Code}): {Message}", ErrorCodes.Internal, message);
        var line = ErrLine.From(ErrorCodes.Internal, message).Render() + "\n";
        await stdout.WriteAsync(System.Text.Encoding.ASCII.GetBytes(line));
    }
}
