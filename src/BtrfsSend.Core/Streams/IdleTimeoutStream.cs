using System.Buffers;
using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Streams;

/// <summary>
/// Reads from <paramref name="inner"/>, but a read that gets no byte for <paramref name="timeout"/>
/// throws <see cref="IdleTimeoutException"/> instead of waiting forever: a stalled peer must not
/// hold a set lock (receiver) or a cron run (producer) indefinitely. The inner stream must observe
/// the read's cancellation token (a pipe read through poll(2), or an async pipe read). The
/// timeout is per read, so a slow but moving transfer never trips it. <paramref name="what"/>
/// names the peer in the message (e.g. "the client").
/// One <see cref="CancellationTokenSource"/> serves every read: its timer is re-armed per read and
/// stopped after it (<see cref="CancellationTokenSource.TryReset"/>); only a source that was
/// cancelled (a timeout, the caller's token, or a timer that fired as the read completed) is
/// replaced, so no read ever sees an earlier read's cancellation.
/// </summary>
public sealed class IdleTimeoutStream(Stream inner, TimeSpan timeout, string what, bool leaveOpen = false) : ReadOnlyStream
{
    private CancellationTokenSource? _idle;

    public TimeSpan Timeout { get; } = timeout;

    private bool HasTimeout => Timeout > TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan;

    public override int Read(Span<byte> buffer)
    {
        if (!HasTimeout)
        {
            return inner.Read(buffer);
        }

        // The timeout needs a token, which only the async read takes: read into a pooled array.
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var pending = ReadAsync(rented.AsMemory(0, buffer.Length), CancellationToken.None);
            var n = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!HasTimeout)
        {
            return await inner.ReadAsync(buffer, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var idle = Arm();
        var caller = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), idle)
            : default;
        try
        {
            return await inner.ReadAsync(buffer, idle.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IdleTimeoutException($"{what} sent nothing for {Timeout.TotalSeconds:0} seconds (idle timeout); the transfer was abandoned");
        }
        finally
        {
            caller.Dispose();
            Disarm(idle);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _idle?.Dispose();
            _idle = null;
            if (!leaveOpen)
            {
                inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>The token source for the next read, uncancelled, its timer set to <see cref="Timeout"/> from now.</summary>
    private CancellationTokenSource Arm()
    {
        var idle = _idle ??= new CancellationTokenSource();
        idle.CancelAfter(Timeout);
        return idle;
    }

    /// <summary>
    /// Stops the read's timer. A source that was cancelled, or whose timer could not be stopped
    /// before it fired, is dropped: the next read gets a fresh one.
    /// </summary>
    private void Disarm(CancellationTokenSource idle)
    {
        if (!idle.TryReset())
        {
            idle.Dispose();
            _idle = null;
        }
    }
}
