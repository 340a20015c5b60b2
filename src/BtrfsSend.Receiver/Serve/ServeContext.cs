using System.Text;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Storage;
using Serilog;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// What every verb handler of one <see cref="ServeSession"/> shares: the receiver's settings, the
/// client's name, the protocol streams (stdin behind the idle timeout, stdout for protocol output
/// only), the log, the clock and the encrypted-stream store. One per session, so every request of
/// a session reads the same input.
/// </summary>
internal sealed class ServeContext
{
    public ServeContext(ReceiverOptions options, string? client, Stream stdin, Stream stdout, ILogger log, TimeProvider clock, string luksLeaseDirPath)
    {
        Options = options;
        Client = client;
        Output = stdout;
        Log = log;
        Clock = clock;
        LuksLeaseDirPath = luksLeaseDirPath;
        Store = new StreamStore(options.BackupRootDirPath);
        // A client that sends nothing for IDLE_TIMEOUT_SECONDS is cut off.
        Stdin = new Core.Streams.IdleTimeoutStream(stdin, options.IdleTimeout, "the client", leaveOpen: true);
        Input = Stdin;
    }

    public ReceiverOptions Options { get; }

    /// <summary>The client's name (authorized_keys' <c>--client</c>, else the sudo user), or null.</summary>
    public string? Client { get; }

    /// <summary>The client as logs and messages show it.</summary>
    public string ClientLabel => Client ?? "-";

    /// <summary>stdin behind the idle timeout: where a session reads its request lines.</summary>
    public Stream Stdin { get; }

    /// <summary>What the verb being served reads: <see cref="Stdin"/>, or inside a session the request's own payload.</summary>
    public Stream Input { get; set; }

    /// <summary>stdout: an answer line, list lines, or a BSF1 stream; nothing else.</summary>
    public Stream Output { get; }

    public ILogger Log { get; }

    public TimeProvider Clock { get; }

    /// <summary>The encrypted streams under BACKUP_ROOT.</summary>
    public StreamStore Store { get; }

    /// <summary>Where LUKS leases and the volume lock live.</summary>
    public string LuksLeaseDirPath { get; }

    /// <summary>Refuses (<c>forbidden</c>) a set this client may not use (CLIENT_&lt;name&gt;).</summary>
    public void RequireAllowed(BackupSet set)
    {
        if (!Options.IsSetAllowed(Client, set))
        {
            throw new ServeRefusal(ErrorCodes.Forbidden, $"client '{ClientLabel}' may not use backup set '{set}'; ask the backup server's admin to add it to CLIENT_{ClientLabel}");
        }
    }

    /// <summary>Writes one protocol line to stdout and flushes it.</summary>
    public async Task WriteLineAsync(string line)
    {
        var bytes = Encoding.ASCII.GetBytes(line + "\n");
        await Output.WriteAsync(bytes);
        await Output.FlushAsync();
    }
}
