using System.IO.Compression;
using BtrfsSend.Core.Streams;
using Org.BouncyCastle.Utilities.Bzip2;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// Read-only plaintext of an OpenPGP message. Plaintext is released before the MDC at the end is
/// checked (as with gpg), so nothing read may be trusted until <see cref="Read(Span{byte})"/> has
/// returned 0: it returns 0 only after the MDC matched and the input ended exactly after the
/// message; every failure throws <see cref="OpenPgpException"/>, and every later read throws it
/// again. <see cref="IsVerified"/> says the same. Does not own its input.
/// </summary>
public sealed class OpenPgpDecryptingStream : ReadOnlyStream
{
    private readonly Stream _input;
    private readonly MdcDecryptingReader _decrypted;
    private Stream? _decompressed;
    private Stream? _compressedBody;
    private Stream? _literalBody;
    private OpenPgpException? _failure;

    internal OpenPgpDecryptingStream(Stream input, MdcDecryptingReader decrypted)
    {
        _input = input;
        _decrypted = decrypted;
    }

    /// <summary>True once the whole message was read and its MDC matched.</summary>
    public bool IsVerified { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        if (_failure is not null)
        {
            throw _failure;
        }

        if (IsVerified || buffer.IsEmpty)
        {
            return 0;
        }

        try
        {
            _literalBody ??= OpenLiteral();
            var n = _literalBody.Read(buffer);
            if (n > 0)
            {
                return n;
            }

            Complete();
            return 0;
        }
        catch (OpenPgpException ex)
        {
            _failure = ex;
            throw;
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IndexOutOfRangeException
                                   || (ex is IOException && _decompressed is not null && !ReferenceEquals(_decompressed, _compressedBody)))
        {
            _failure = new OpenPgpException(OpenPgpFailure.Tampered, $"the decrypted content does not decompress/parse ({ex.Message})", ex);
            throw _failure;
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _decompressed?.Dispose();
            _decrypted.Dispose();
        }

        base.Dispose(disposing);
    }

    private static PacketHeader ReadInnerHeader(Stream source)
        => PacketFormat.TryReadHeader(source, OpenPgpFailure.Tampered, OpenPgpFailure.Tampered)
           ?? throw new OpenPgpException(OpenPgpFailure.Tampered, "the encrypted data holds no packet");

    private Stream OpenLiteral()
    {
        var header = ReadInnerHeader(_decrypted);
        var source = (Stream)_decrypted;
        if (header.Tag == PacketHeader.Compressed)
        {
            _compressedBody = new PacketBodyStream(_decrypted, header, OpenPgpFailure.Tampered, "the compressed data packet");
            var algorithm = _compressedBody.ReadByte();
            _decompressed = algorithm switch
            {
                0 => _compressedBody,
                1 => new DeflateStream(_compressedBody, CompressionMode.Decompress, leaveOpen: true),
                2 => new ZLibStream(_compressedBody, CompressionMode.Decompress, leaveOpen: true),
                3 => new CBZip2InputStreamLeaveOpen(_compressedBody),
                < 0 => throw new OpenPgpException(OpenPgpFailure.Tampered, "the compressed data packet is empty"),
                _ => throw new OpenPgpException(OpenPgpFailure.Unsupported, $"compression algorithm {algorithm}"),
            };
            source = _decompressed;
            header = ReadInnerHeader(source);
        }

        if (header.Tag != PacketHeader.Literal)
        {
            throw new OpenPgpException(OpenPgpFailure.Unsupported, $"packet type {header.Tag} inside the encrypted data; only (compressed) literal data is read, not signed messages");
        }

        var literal = new PacketBodyStream(source, header, OpenPgpFailure.Tampered, "the literal data packet");
        var fixedPart = new byte[2];
        PacketFormat.ReadExactly(literal, fixedPart, OpenPgpFailure.Tampered, "the literal data header");
        var skip = new byte[fixedPart[1] + 4];
        PacketFormat.ReadExactly(literal, skip, OpenPgpFailure.Tampered, "the literal data header");
        return literal;
    }

    /// <summary>The literal data ended: nothing may follow it, the MDC must match and the input must end.</summary>
    private void Complete()
    {
        var probe = new byte[1];
        if (_decompressed is not null && _decompressed.Read(probe) != 0)
        {
            throw new OpenPgpException(OpenPgpFailure.Tampered, "data follows the literal packet inside the compressed packet");
        }

        if (_compressedBody is not null && !ReferenceEquals(_compressedBody, _decompressed))
        {
            var scratch = new byte[4096];
            while (_compressedBody.Read(scratch) > 0)
            {
                // Trailing bytes of the deflate/bzip2 framing; the MDC still covers them.
            }
        }

        if (_decrypted.Read(probe) != 0)
        {
            throw new OpenPgpException(OpenPgpFailure.Tampered, "data follows the literal packet inside the encrypted packet");
        }

        if (!_decrypted.IsVerified)
        {
            throw new OpenPgpException(OpenPgpFailure.Tampered, "the encrypted data ended without its MDC");
        }

        if (_input.ReadByte() >= 0)
        {
            throw new OpenPgpException(OpenPgpFailure.Malformed, "data follows the encrypted packet");
        }

        IsVerified = true;
    }
}
