using System.Runtime.InteropServices;
using BtrfsSend.Core.Storage;
using BtrfsSend.Core.Streams;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// Read-only stream over a pipe's file descriptor (the forced command's stdin) whose
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> is a plain read(2) on the calling
/// thread once poll(2) says data (or EOF) is there. Console's stdin stream turns every async read
/// into a thread-pool hop (about 0.3 CPU-s per GiB at sshd's 32 KiB pieces) and never observes
/// the token once the read started; here a stalled read wakes every <see cref="PollIntervalMs"/>
/// to notice SIGTERM's token.
/// </summary>
internal sealed class StdinStream(int fd) : ReadOnlyStream
{
    internal const int PollIntervalMs = 200;

    public override int Read(Span<byte> buffer) => ReadWhenReady(buffer, CancellationToken.None);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return ValueTask.FromResult(ReadWhenReady(buffer.Span, cancellationToken));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<int>(ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int ReadWhenReady(Span<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var poll = new Native.PollFd { Fd = fd, Events = Native.PollIn };
            var ready = Native.Poll(ref poll, 1, PollIntervalMs);
            if (ready == 0 || (ready < 0 && Marshal.GetLastPInvokeError() == Native.EIntr))
            {
                continue;
            }

            // Ready, hung up, in error, or poll failed: read(2) tells which (data, 0 = EOF, or errno).
            var n = Native.Read(fd, buffer, buffer.Length);
            if (n >= 0)
            {
                return (int)n;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Native.EIntr)
            {
                throw new IOException($"read from stdin failed: {Native.ErrorText(errno)}", errno);
            }
        }
    }
}
