using System.Buffers.Binary;
using BtrfsSend.Core.Streams;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// Read-only stream over exactly one BSF1 stream at the start of an inner stream that goes on after
/// it (a session's stdin): it passes the framed bytes through unchanged — magic, frames, end marker,
/// trailer — and returns 0 right after the trailer, never reading a byte beyond it. It only follows
/// the length fields to find the end; checking the stream is the job of the <see cref="Bsf1Reader"/>
/// that reads from it, which then sees the end of input it requires after the trailer. A length above
/// <see cref="Bsf1.MaxFrameLength"/> ends the extent at that field, so the reader refuses it.
/// </summary>
public sealed class Bsf1Extent(Stream inner) : ReadOnlyStream
{
    private readonly byte[] _length = new byte[Bsf1.LengthFieldLength];
    private int _lengthFilled;
    private long _remaining = Bsf1.MagicLength;
    private Part _part = Part.Magic;

    private enum Part
    {
        Magic,
        Length,
        Payload,
        Trailer,
        End,
    }

    /// <summary>True once the whole BSF1 stream, trailer included, went through.</summary>
    public bool IsAtEnd => _part == Part.End;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _part == Part.End)
        {
            return 0;
        }

        var n = inner.Read(buffer[..Want(buffer.Length)]);
        Advance(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || _part == Part.End)
        {
            return 0;
        }

        var n = await inner.ReadAsync(buffer[..Want(buffer.Length)], cancellationToken);
        Advance(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Want(int room) => (int)Math.Min(room, _part == Part.Length ? Bsf1.LengthFieldLength - _lengthFilled : _remaining);

    private void Advance(ReadOnlySpan<byte> got)
    {
        if (got.IsEmpty)
        {
            _part = Part.End; // the inner stream ended early: the reader reports the truncation
            return;
        }

        if (_part == Part.Length)
        {
            got.CopyTo(_length.AsSpan(_lengthFilled));
            _lengthFilled += got.Length;
            if (_lengthFilled < Bsf1.LengthFieldLength)
            {
                return;
            }

            _lengthFilled = 0;
            var length = BinaryPrimitives.ReadUInt32BigEndian(_length);
            (_part, _remaining) = length switch
            {
                0 => (Part.Trailer, Bsf1.TrailerLength),
                > Bsf1.MaxFrameLength => (Part.End, 0L),
                _ => (Part.Payload, (long)length),
            };
            return;
        }

        _remaining -= got.Length;
        if (_remaining == 0)
        {
            (_part, _remaining) = _part == Part.Trailer ? (Part.End, 0L) : (Part.Length, 0L);
        }
    }
}
