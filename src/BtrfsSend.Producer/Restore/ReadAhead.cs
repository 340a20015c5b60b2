using System.Runtime.ExceptionServices;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// A bounded read-ahead: one dedicated thread calls <c>fill</c> (read and check the next stored
/// bytes) into a ring of <c>slotCount</c> buffers while the consumer decrypts the earlier ones.
/// Memory is the ring, whatever the stream size. The consumer sees exactly the sequence
/// <c>fill</c> produced: every byte in order, then 0 (the end, after <c>fill</c>'s end checks
/// passed) or <c>fill</c>'s exception, only after everything read before it; both are terminal.
/// </summary>
internal sealed class ReadAhead : IDisposable
{
    private readonly Func<Span<byte>, int> _fill;
    private readonly byte[][] _buffers;
    private readonly int[] _lengths;
    private readonly Exception?[] _errors;
    private readonly SemaphoreSlim _filled = new(0);
    private readonly SemaphoreSlim _free;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private int _slot;
    private int _offset;
    private bool _isHolding;

    /// <param name="fill">Reads or checks one step into the buffer: bytes read, 0 at the checked end; throws to stop.</param>
    public ReadAhead(Func<Span<byte>, int> fill, int slotCount, int slotSize, string threadName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 2);
        _fill = fill;
        _buffers = Enumerable.Range(0, slotCount).Select(_ => new byte[slotSize]).ToArray();
        _lengths = new int[slotCount];
        _errors = new Exception?[slotCount];
        _free = new SemaphoreSlim(slotCount);
        ThreadName = threadName;
    }

    private string ThreadName { get; }

    public int Read(Span<byte> destination, CancellationToken cancellationToken = default)
    {
        if (!_isHolding)
        {
            Start();
            WaitFilled(cancellationToken);
            _isHolding = true;
        }

        return Take(destination);
    }

    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (!_isHolding)
        {
            Start();
            using var stopOrCaller = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, cancellationToken);
            await _filled.WaitAsync(stopOrCaller.Token);
            _isHolding = true;
        }

        return Take(destination.Span);
    }

    /// <summary>Stops the reading thread; true when it has ended (the fill is no longer in use).</summary>
    public bool Stop()
    {
        if (_thread is null)
        {
            return true;
        }

        _stop.Cancel();
        return _thread.Join(TimeSpan.FromSeconds(10));
    }

    public void Dispose()
    {
        if (Stop())
        {
            _stop.Dispose();
        }
    }

    private void Start()
    {
        if (_thread is null)
        {
            _thread = new Thread(Run) { IsBackground = true, Name = ThreadName };
            _thread.Start();
        }
    }

    /// <summary>Waits for the next slot; a stop (the stream disposed under a reader) ends the wait too.</summary>
    private void WaitFilled(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            _filled.Wait(_stop.Token);
            return;
        }

        using var stopOrCaller = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, cancellationToken);
        _filled.Wait(stopOrCaller.Token);
    }

    /// <summary>Copies from the held slot; releases it when drained. An end or error slot stays held.</summary>
    private int Take(Span<byte> destination)
    {
        var slot = _slot;
        if (_errors[slot] is { } error)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        var length = _lengths[slot];
        if (length == 0 || destination.IsEmpty)
        {
            return 0;
        }

        var n = Math.Min(length - _offset, destination.Length);
        _buffers[slot].AsSpan(_offset, n).CopyTo(destination);
        _offset += n;
        if (_offset == length)
        {
            _offset = 0;
            _isHolding = false;
            _slot = (slot + 1) % _buffers.Length;
            _free.Release();
        }

        return n;
    }

    private void Run()
    {
        var slot = 0;
        try
        {
            while (true)
            {
                _free.Wait(_stop.Token);
                int length;
                Exception? error = null;
                try
                {
                    length = _fill(_buffers[slot]);
                }
                catch (Exception ex)
                {
                    length = 0;
                    error = ex;
                }

                _lengths[slot] = length;
                _errors[slot] = error;
                _filled.Release();
                if (length == 0)
                {
                    return;
                }

                slot = (slot + 1) % _buffers.Length;
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped by the consumer: nobody reads the rest.
        }
    }
}
