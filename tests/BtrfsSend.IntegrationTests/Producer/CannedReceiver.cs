using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Transport;
using BtrfsSend.Producer.Connection;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// A hostile backup server behind a real sshd: the authorized_keys forced command (through sudo,
/// as in production) is a small script that reads whatever the producer uploads and then prints
/// the bytes of <see cref="AnswerFilePath"/> verbatim — or, after <see cref="Stall"/>, never
/// answers at all. The producer's real <see cref="ReceiverClient"/> talks to it over ssh.
/// </summary>
public sealed class CannedReceiver : IAsyncLifetime
{
    private readonly TempDir _dir = new("canned");
    private SshdFixture? _sshd;

    public SshdFixture Sshd => _sshd ?? throw new InvalidOperationException("not started");

    public string AnswerFilePath => _dir.Sub("answer");

    private string StallFilePath => _dir.Sub("stall");

    private string StallAfterFilePath => _dir.Sub("stall-after");

    public string DirPath => _dir.DirPath;

    /// <summary>The next answers are exactly <paramref name="bytes"/> (no newline added).</summary>
    public void Answer(byte[] bytes)
    {
        File.Delete(StallFilePath);
        File.Delete(StallAfterFilePath);
        File.WriteAllBytes(AnswerFilePath, bytes);
    }

    /// <summary>The next requests get no answer: the script reads its stdin and sleeps.</summary>
    public void Stall() => File.WriteAllText(StallFilePath, "");

    /// <summary>
    /// The next session gets exactly <paramref name="bytes"/>, then nothing more: the script reads
    /// its stdin to the end and sleeps, keeping the connection open (a receiver that takes a whole
    /// upload and never answers it).
    /// </summary>
    public void StallAfter(byte[] bytes)
    {
        Answer(bytes);
        File.WriteAllText(StallAfterFilePath, "");
    }

    /// <summary>The producer's client for this receiver, giving up after <paramref name="idleTimeout"/>.</summary>
    internal ReceiverClient Client(TimeSpan idleTimeout) => new(
        new SshArgv
        {
            Target = Sshd.Target,
            Port = Sshd.Port,
            IdentityFilePath = Sshd.ClientKeyFilePath,
            ExtraOptions = [$"HostKeyAlias={Sshd.HostKeyAlias}", "StrictHostKeyChecking=yes", $"UserKnownHostsFile={Sshd.KnownHostsFilePath}", "GlobalKnownHostsFile=/dev/null"],
        },
        new ToolRunner())
    { IdleTimeout = idleTimeout };

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Starts sshd on first use (so a machine without root skips instead of failing here).</summary>
    public async Task<CannedReceiver> StartedAsync()
    {
        if (_sshd is not null)
        {
            return this;
        }

        var script = _dir.Sub("canned-receiver");
        await File.WriteAllTextAsync(script, $$"""
            #!/bin/sh
            # argv: serve -- "$SSH_ORIGINAL_COMMAND"
            case "$3" in
              receive*) cat > /dev/null ;;
              session)
                # A session's answers all at once; then stdin is read until the producer ends the session (at most 3 s).
                [ -e {{StallFilePath}} ] && exec sleep 60
                cat {{AnswerFilePath}}
                [ -e {{StallAfterFilePath}} ] && { cat > /dev/null; exec sleep 60; }
                timeout 3 cat > /dev/null
                exit 0 ;;
            esac
            [ -e {{StallFilePath}} ] && exec sleep 60
            exec cat {{AnswerFilePath}}

            """);
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        // sudo runs the script as root from a directory only root may write, like the real receiver.
        File.SetUnixFileMode(_dir.DirPath, (UnixFileMode)0b111_101_101);
        Answer([]);
        _sshd = await SshdFixture.StartAsync(script);
        return this;
    }

    public async Task DisposeAsync()
    {
        if (_sshd is not null)
        {
            await _sshd.DisposeAsync();
        }

        _dir.Dispose();
    }
}
