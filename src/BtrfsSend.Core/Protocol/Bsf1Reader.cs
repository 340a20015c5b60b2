using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using BtrfsSend.Core.Streams;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// Read-only stream that returns the payload of a BSF1 stream read from an inner stream.
/// Payload bytes are handed out as they arrive, but <see cref="Read(Span{byte})"/> returns 0 only
/// after the trailer's count and SHA-256 matched and the input ended right after it: 0 means
/// verified end, never "the connection dropped". Every problem throws <see cref="FramingException"/>
/// (and again on every later read), so a consumer must commit only once <see cref="IsComplete"/>.
/// </summary>
public sealed class Bsf1Reader : ReadOnlyStream
{
    private enum State
    {
        Magic,
        FrameHeader,
        Payload,
        Done,
    }

    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly long _maxPayloadBytes;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _field = new byte[Bsf1.TrailerLength];
    private State _state = State.Magic;
    private long _offset;
    private long _remaining;
    private FramingException? _failure;
    private byte[]? _sha256;
    private bool _disposed;

    /// <param name="inner">The framed input.</param>
    /// <param name="maxPayloadBytes">Refuse (<see cref="FramingError.TooLarge"/>) a payload larger than this, before reading the frame that would exceed it.</param>
    /// <param name="leaveOpen">Keep <paramref name="inner"/> open when this reader is disposed.</param>
    public Bsf1Reader(Stream inner, long maxPayloadBytes = long.MaxValue, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegative(maxPayloadBytes);
        _inner = inner;
        _maxPayloadBytes = maxPayloadBytes;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Payload bytes returned so far.</summary>
    public long PayloadBytes { get; private set; }

    /// <summary>Bytes of framed input consumed so far.</summary>
    public long FramedBytes => _offset;

    /// <summary>True once the trailer verified and the input ended after it.</summary>
    public bool IsComplete => _state == State.Done;

    /// <summary>The verified SHA-256 of the payload as lowercase hex; only once <see cref="IsComplete"/>.</summary>
    public string Sha256Hex => Convert.ToHexStringLower(_sha256 ?? throw new InvalidOperationException("the BSF1 stream has not been verified"));

    public override bool CanRead => !_disposed;

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            ThrowIfFailed();
            while (true)
            {
                switch (_state)
                {
                    case State.Done:
                        return 0;
                    case State.Payload:
                        if (buffer.IsEmpty)
                        {
                            return 0;
                        }

                        var want = buffer[..(int)Math.Min(buffer.Length, _remaining)];
                        var n = _inner.Read(want);
                        OnPayload(want[..n]);
                        return n;
                    case State.Magic:
                        ReadMagic(FillField(Bsf1.MagicLength));
                        break;
                    case State.FrameHeader:
                        if (OnLength(FillField(Bsf1.LengthFieldLength), Bsf1.LengthFieldLength))
                        {
                            OnTrailer(FillField(Bsf1.TrailerLength), Bsf1.TrailerLength);
                            OnAfterTrailer(_inner.Read(_field.AsSpan(0, 1)));
                        }

                        break;
                }
            }
        }
        catch (FramingException e)
        {
            _failure ??= e;
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            ThrowIfFailed();
            while (true)
            {
                switch (_state)
                {
                    case State.Done:
                        return 0;
                    case State.Payload:
                        if (buffer.IsEmpty)
                        {
                            return 0;
                        }

                        var want = buffer[..(int)Math.Min(buffer.Length, _remaining)];
                        var n = await _inner.ReadAsync(want, cancellationToken);
                        OnPayload(want.Span[..n]);
                        return n;
                    case State.Magic:
                        ReadMagic(await FillFieldAsync(Bsf1.MagicLength, cancellationToken));
                        break;
                    case State.FrameHeader:
                        if (OnLength(await FillFieldAsync(Bsf1.LengthFieldLength, cancellationToken), Bsf1.LengthFieldLength))
                        {
                            OnTrailer(await FillFieldAsync(Bsf1.TrailerLength, cancellationToken), Bsf1.TrailerLength);
                            OnAfterTrailer(await _inner.ReadAsync(_field.AsMemory(0, 1), cancellationToken));
                        }

                        break;
                }
            }
        }
        catch (FramingException e)
        {
            _failure ??= e;
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _hash.Dispose();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>Reads up to <paramref name="count"/> bytes into the field buffer; returns how many arrived before EOF.</summary>
    private int FillField(int count)
    {
        var got = 0;
        while (got < count)
        {
            var n = _inner.Read(_field.AsSpan(got, count - got));
            if (n == 0)
            {
                break;
            }

            got += n;
            _offset += n;
        }

        return got;
    }

    private async ValueTask<int> FillFieldAsync(int count, CancellationToken cancellationToken)
    {
        var got = 0;
        while (got < count)
        {
            var n = await _inner.ReadAsync(_field.AsMemory(got, count - got), cancellationToken);
            if (n == 0)
            {
                break;
            }

            got += n;
            _offset += n;
        }

        return got;
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw _failure;
        }
    }

    private void ReadMagic(int got)
    {
        var magic = Bsf1.Magic;
        if (!_field.AsSpan(0, got).SequenceEqual(magic[..got]))
        {
            throw Fail(FramingError.BadMagic, 0, "does not start with the magic 'BSF1': it is not a BSF1 stream (wrong sender or protocol version)");
        }

        if (got < Bsf1.MagicLength)
        {
            throw Truncated("in the magic");
        }

        _state = State.FrameHeader;
    }

    /// <summary>Takes a frame length; returns true for the end marker.</summary>
    private bool OnLength(int got, int count)
    {
        if (got < count)
        {
            throw Truncated("in a frame length");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(_field);
        if (length == 0)
        {
            return true;
        }

        var at = _offset - Bsf1.LengthFieldLength;
        if (length > Bsf1.MaxFrameLength)
        {
            throw Fail(FramingError.OversizeFrame, at, $"has a frame of {length} bytes at byte {at}; at most {Bsf1.MaxFrameLength} are allowed");
        }

        if (PayloadBytes + length > _maxPayloadBytes)
        {
            throw Fail(FramingError.TooLarge, at, $"payload exceeds the limit of {_maxPayloadBytes} bytes");
        }

        _remaining = length;
        _state = State.Payload;
        return false;
    }

    private void OnPayload(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            throw Truncated("in a frame's payload");
        }

        _hash.AppendData(data);
        _offset += data.Length;
        PayloadBytes += data.Length;
        _remaining -= data.Length;
        if (_remaining == 0)
        {
            _state = State.FrameHeader;
        }
    }

    private void OnTrailer(int got, int count)
    {
        if (got < count)
        {
            throw Truncated("in the trailer");
        }

        var at = _offset - Bsf1.TrailerLength;
        var declared = BinaryPrimitives.ReadUInt64BigEndian(_field);
        if (declared != (ulong)PayloadBytes)
        {
            throw Fail(FramingError.CountMismatch, at, string.Create(CultureInfo.InvariantCulture,
                $"trailer declares {declared} payload bytes but {PayloadBytes} arrived"));
        }

        Span<byte> actual = stackalloc byte[32];
        _hash.GetHashAndReset(actual);
        if (!CryptographicOperations.FixedTimeEquals(actual, _field.AsSpan(8, 32)))
        {
            throw Fail(FramingError.HashMismatch, at + 8, $"trailer SHA-256 {Convert.ToHexStringLower(_field.AsSpan(8, 32))} does not match the payload's {Convert.ToHexStringLower(actual)}");
        }

        _sha256 = actual.ToArray();
    }

    private void OnAfterTrailer(int extra)
    {
        if (extra > 0)
        {
            _sha256 = null;
            throw Fail(FramingError.TrailingBytes, _offset, $"has bytes after its trailer at byte {_offset}");
        }

        _state = State.Done;
    }

    private FramingException Truncated(string where)
        => Fail(FramingError.Truncated, _offset, $"ended at byte {_offset} {where}, before its trailer: the sender stopped or the connection was cut");

    private FramingException Fail(FramingError error, long offset, string what)
    {
        var e = new FramingException(error, offset, $"BSF1 stream {what}; nothing from it may be kept");
        _failure = e;
        return e;
    }
}
