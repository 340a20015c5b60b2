using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Streams;

/// <summary>
/// Reads from <paramref name="inner"/>, but a read that gets no byte for <paramref name="timeout"/>
/// throws <see cref="IdleTimeoutException"/> instead of waiting forever: a stalled peer must not
/// hold a set lock (receiver) or a cron run (producer) indefinitely. The inner stream must observe
/// the read's cancellation token (a pipe read through poll(2), or an async pipe read). The
/// timeout is per read, so a slow but moving transfer never trips it. <paramref name="what"/>
/// names the peer in the message (e.g. "the client").
/// </summary>
public sealed class IdleTimeoutStream(Stream inner, TimeSpan timeout, string what, bool leaveOpen = false) : ReadOnlyStream
{
    public TimeSpan Timeout { get; } = timeout;

    public override int Read(Span<byte> buffer)
    {
        var rented = new byte[buffer.Length];
        var n = ReadAsync(rented.AsMemory(), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        rented.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Timeout <= TimeSpan.Zero || Timeout == System.Threading.Timeout.InfiniteTimeSpan)
        {
            return await inner.ReadAsync(buffer, cancellationToken);
        }

        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(Timeout);
        try
        {
            return await inner.ReadAsync(buffer, idle.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IdleTimeoutException($"{what} sent nothing for {Timeout.TotalSeconds:0} seconds (idle timeout); the transfer was abandoned");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
