using System.Security.Cryptography;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// SHA-1 for the MDC (or, with another algorithm, SHA-256 for a stream signature), computed on another core while the caller runs AES (docs/architecture.md; measured: ~500 to
/// ~690 MiB/s on two cores). Data is copied into one of two buffers and hashed by a chain of
/// continuations, so appends are hashed strictly in order; small appends are hashed inline
/// after the pending ones.
/// </summary>
internal sealed class BackgroundSha1 : IDisposable
{
    private const int InlineBelow = 4096;
    private readonly IncrementalHash _hash;
    private readonly byte[][] _buffers;
    private readonly Task[] _pending = [Task.CompletedTask, Task.CompletedTask];
    private Task _last = Task.CompletedTask;
    private int _next;

    public BackgroundSha1(int bufferSize, HashAlgorithmName? algorithm = null)
    {
        _hash = IncrementalHash.CreateHash(algorithm ?? HashAlgorithmName.SHA1);
        _buffers = [new byte[bufferSize], new byte[bufferSize]];
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.Length < InlineBelow)
        {
            WaitPending();
            _hash.AppendData(data);
            return;
        }

        while (!data.IsEmpty)
        {
            var index = _next;
            _next ^= 1;
            _pending[index].GetAwaiter().GetResult();
            var buffer = _buffers[index];
            var length = Math.Min(data.Length, buffer.Length);
            data[..length].CopyTo(buffer);
            data = data[length..];
            _last = _pending[index] = _last.ContinueWith(
                _ => _hash.AppendData(buffer, 0, length),
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default);
        }
    }

    public byte[] GetHashAndReset()
    {
        WaitPending();
        return _hash.GetHashAndReset();
    }

    public void Dispose()
    {
        try
        {
            WaitPending();
        }
        finally
        {
            _hash.Dispose();
            Array.Clear(_buffers[0]);
            Array.Clear(_buffers[1]);
        }
    }

    private void WaitPending() => _last.GetAwaiter().GetResult();
}
