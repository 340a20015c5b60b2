namespace BtrfsSend.Core.Streams;

/// <summary>
/// Copies a stream into a consumer that acts on its last bytes (<c>btrfs receive -e</c> finalizes a
/// subvolume on the END command), holding back the last non-empty read until the source reached
/// EOF and a check passed. Decryptors and framed readers release data before their end checks
/// (docs/architecture.md, pipe trap 3), so without this the consumer could commit a stream that then fails
/// them. If the source or the check throws, the held bytes are never written and the exception
/// propagates: the caller kills the consumer. Memory: two buffers, whatever the stream size.
/// </summary>
public static class HoldBackCopy
{
    public const int DefaultBufferSize = 1024 * 1024;

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/>; the last read is written
    /// only after <paramref name="beforeFinalWrite"/> completed without throwing. The check runs
    /// once, after EOF, also for an empty source. Returns the bytes written.
    /// </summary>
    public static async Task<long> CopyAsync(
        Stream source,
        Stream destination,
        Func<CancellationToken, Task> beforeFinalWrite,
        int bufferSize = DefaultBufferSize,
        CancellationToken cancellationToken = default)
    {
        CheckArguments(source, destination, beforeFinalWrite, bufferSize);

        var held = new byte[bufferSize];
        var next = new byte[bufferSize];
        var heldCount = 0;
        long written = 0;
        int n;
        while ((n = await source.ReadAsync(next, cancellationToken)) > 0)
        {
            if (heldCount > 0)
            {
                await destination.WriteAsync(held.AsMemory(0, heldCount), cancellationToken);
                written += heldCount;
            }

            (held, next) = (next, held);
            heldCount = n;
        }

        return written + await FinishAsync(destination, held, heldCount, beforeFinalWrite, cancellationToken);
    }

    /// <summary>
    /// <see cref="CopyAsync"/> with each write overlapping the next read: while one buffer is
    /// being written (a pipe to a slower consumer blocks there), the next is read. Same guarantee:
    /// the last read is written only after EOF and <paramref name="beforeFinalWrite"/>, and
    /// nothing more is written once the source or a write failed. Memory: three buffers.
    /// </summary>
    public static async Task<long> CopyOverlappedAsync(
        Stream source,
        Stream destination,
        Func<CancellationToken, Task> beforeFinalWrite,
        int bufferSize = DefaultBufferSize,
        CancellationToken cancellationToken = default)
    {
        CheckArguments(source, destination, beforeFinalWrite, bufferSize);

        var held = new byte[bufferSize];
        var next = new byte[bufferSize];
        var spare = new byte[bufferSize];
        var heldCount = 0;
        long written = 0;
        var writing = Task.CompletedTask;
        try
        {
            int n;
            while ((n = await source.ReadAsync(next, cancellationToken)) > 0)
            {
                if (heldCount > 0)
                {
                    // spare's write has finished before it is read into again.
                    await writing;
                    writing = destination.WriteAsync(held.AsMemory(0, heldCount), cancellationToken).AsTask();
                    written += heldCount;
                    (held, next, spare) = (next, spare, held);
                }
                else
                {
                    (held, next) = (next, held);
                }

                heldCount = n;
            }
        }
        finally
        {
            // Never leave a write running on a buffer the caller may reuse, also on failure.
            await writing.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        await writing;
        return written + await FinishAsync(destination, held, heldCount, beforeFinalWrite, cancellationToken);
    }

    private static void CheckArguments(Stream source, Stream destination, Func<CancellationToken, Task> beforeFinalWrite, int bufferSize)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(beforeFinalWrite);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
    }

    /// <summary>After EOF: the check, then the held bytes (if any), then a flush. Returns the bytes written here.</summary>
    private static async Task<int> FinishAsync(Stream destination, byte[] held, int heldCount, Func<CancellationToken, Task> beforeFinalWrite, CancellationToken cancellationToken)
    {
        await beforeFinalWrite(cancellationToken);
        if (heldCount > 0)
        {
            await destination.WriteAsync(held.AsMemory(0, heldCount), cancellationToken);
        }

        await destination.FlushAsync(cancellationToken);
        return heldCount;
    }
}
