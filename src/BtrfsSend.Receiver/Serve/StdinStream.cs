using System.Runtime.InteropServices;
using BtrfsSend.Core.Storage;
using BtrfsSend.Core.Streams;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// Read-only stream over a pipe's file descriptor (the forced command's stdin) whose
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> is a plain read(2) on the calling
/// thread. Console's stdin stream turns every async read into a thread-pool hop (about 0.3 CPU-s
/// per GiB at sshd's 32 KiB pieces) and never observes the token once the read started; here a
/// stalled read waits in poll(2), waking every <see cref="PollIntervalMs"/> to notice SIGTERM's token.
/// The descriptor is made non-blocking (O_NONBLOCK, restored on dispose) so that poll(2) is only
/// paid when the pipe is empty: after a read that filled the whole request more data is usually
/// waiting and the next read(2) goes first (EAGAIN sends it back to poll); after a short read, which
/// drained the pipe, poll(2) goes first. Where the flag cannot be set every read polls first.
/// </summary>
internal sealed class StdinStream : ReadOnlyStream
{
    internal const int PollIntervalMs = 200;

    private readonly int _fd;
    private readonly int _restoreFlags = -1;
    private bool _pollFirst = true;
    private bool _disposed;

    public StdinStream(int fd)
    {
        _fd = fd;
        var flags = Native.Fcntl(fd, Native.FGetFl, 0);
        if (flags >= 0 && (flags & Native.ONonBlock) == 0 && Native.Fcntl(fd, Native.FSetFl, flags | Native.ONonBlock) == 0)
        {
            _restoreFlags = flags;
        }

        IsNonBlocking = flags >= 0 && (Native.Fcntl(fd, Native.FGetFl, 0) & Native.ONonBlock) != 0;
    }

    /// <summary>True when reads may go before poll(2) (O_NONBLOCK is set on the descriptor).</summary>
    internal bool IsNonBlocking { get; }

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

    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            if (_restoreFlags >= 0)
            {
                // Others share this open file description (sudo, the caller's shell): leave it as it was.
                _ = Native.Fcntl(_fd, Native.FSetFl, _restoreFlags);
            }
        }

        base.Dispose(disposing);
    }

    private int ReadWhenReady(Span<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_pollFirst || !IsNonBlocking)
            {
                var poll = new Native.PollFd { Fd = _fd, Events = Native.PollIn };
                var ready = Native.Poll(ref poll, 1, PollIntervalMs);
                if (ready == 0 || (ready < 0 && Marshal.GetLastPInvokeError() == Native.EIntr))
                {
                    continue;
                }
            }

            // Ready, hung up, in error, or poll failed: read(2) tells which (data, 0 = EOF, or errno).
            var n = Native.Read(_fd, buffer, buffer.Length);
            if (n >= 0)
            {
                _pollFirst = n < buffer.Length;
                return (int)n;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == Native.EWouldBlock)
            {
                _pollFirst = true;
            }
            else if (errno != Native.EIntr)
            {
                throw new IOException($"read from stdin failed: {Native.ErrorText(errno)}", errno);
            }
        }
    }
}
