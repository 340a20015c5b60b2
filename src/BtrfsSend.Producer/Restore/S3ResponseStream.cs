using Amazon.Runtime;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Streams;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// The body of one GET, read through the idle timeout: a connection that is cut or stalls
/// becomes <see cref="TransferFailedException"/> (or <see cref="IdleTimeoutException"/>) naming
/// the object and how far it got, so the pipeline above tells a network failure from its own
/// (a broken pipe to btrfs receive is an IOException too, and means something else there).
/// </summary>
internal sealed class S3ResponseStream(Stream body, TimeSpan idleTimeout, string url) : ReadOnlyStream
{
    private readonly IdleTimeoutStream _idle = new(body, idleTimeout, $"the object store (reading {url})", leaveOpen: true);
    private long _bytes;

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
        try
        {
            var n = await _idle.ReadAsync(buffer, cancellationToken);
            _bytes += n;
            return n;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or AmazonClientException && !cancellationToken.IsCancellationRequested)
        {
            throw new TransferFailedException($"reading {url} failed after {_bytes} bytes: {NameText.Printable(ex.Message)}", ex);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _idle.Dispose();
        }

        base.Dispose(disposing);
    }
}
