using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
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
    private readonly VerifyKey? _verifyKey;
    private BackgroundSha1? _signatureHash;
    private Stream? _literalSource;
    private Stream? _decompressed;
    private Stream? _compressedBody;
    private Stream? _literalBody;
    private OpenPgpException? _failure;

    internal OpenPgpDecryptingStream(Stream input, MdcDecryptingReader decrypted, VerifyKey? verifyKey)
    {
        _input = input;
        _decrypted = decrypted;
        _verifyKey = verifyKey;
    }

    /// <summary>True once the whole message was read and its MDC matched (and its signature, when signed and a verify key is held).</summary>
    public bool IsVerified { get; private set; }

    /// <summary>The literal packet's file name field (Latin-1): the stream binding, or empty. Known after <see cref="ReadBindingText"/>.</summary>
    public string LiteralName { get; private set; } = "";

    /// <summary>True when a one-pass signature precedes the literal data. Known after <see cref="ReadBindingText"/>.</summary>
    public bool IsSigned { get; private set; }

    /// <summary>True once the signature matched the verify key, the data and the binding (only when a verify key was given).</summary>
    public bool IsSignatureVerified { get; private set; }

    /// <summary>
    /// Reads the packets up to the start of the literal data and returns the literal packet's
    /// file name field (the binding). Nothing in it is authenticated until the stream has been
    /// read to its end (MDC, signature); a signed stream's one-pass signature must name the verify
    /// key, else this throws <see cref="OpenPgpFailure.BadSignature"/> already.
    /// </summary>
    public string ReadBindingText()
    {
        if (_failure is not null)
        {
            throw _failure;
        }

        try
        {
            _literalBody ??= OpenLiteral();
            return LiteralName;
        }
        catch (OpenPgpException ex)
        {
            _failure = ex;
            throw;
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or IndexOutOfRangeException or IOException && _decompressed is not null)
        {
            _failure = new OpenPgpException(OpenPgpFailure.Tampered, $"the decrypted content does not decompress/parse ({ex.Message})", ex);
            throw _failure;
        }
    }

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
                _signatureHash?.Append(buffer[..n]);
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
            _signatureHash?.Dispose();
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

        if (header.Tag == PacketHeader.OnePassSignature)
        {
            var onePass = PacketFormat.ReadSmallBody(source, header, 64, "one-pass signature packet");
            var keyId = SignaturePackets.ParseOnePass(onePass);
            if (onePass[12] != 1)
            {
                throw new OpenPgpException(OpenPgpFailure.BadSignature, "the stream holds more than one signature; the producer signs once");
            }

            IsSigned = true;
            if (_verifyKey is not null)
            {
                if (keyId != _verifyKey.KeyId)
                {
                    throw new OpenPgpException(OpenPgpFailure.BadSignature, string.Create(CultureInfo.InvariantCulture,
                        $"the stream is signed by key {keyId:X16}, not by the verify key {_verifyKey.KeyId:X16} ({_verifyKey.FingerprintHex})"));
                }

                _signatureHash = new BackgroundSha1(1 << 18, HashAlgorithmName.SHA256);
            }

            header = ReadInnerHeader(source);
        }

        if (header.Tag != PacketHeader.Literal)
        {
            throw new OpenPgpException(OpenPgpFailure.Unsupported, $"packet type {header.Tag} inside the encrypted data; only (compressed, signed) literal data is read");
        }

        _literalSource = source;
        var literal = new PacketBodyStream(source, header, OpenPgpFailure.Tampered, "the literal data packet");
        var fixedPart = new byte[2];
        PacketFormat.ReadExactly(literal, fixedPart, OpenPgpFailure.Tampered, "the literal data header");
        var skip = new byte[fixedPart[1] + 4];
        PacketFormat.ReadExactly(literal, skip, OpenPgpFailure.Tampered, "the literal data header");
        LiteralName = System.Text.Encoding.Latin1.GetString(skip, 0, fixedPart[1]);
        return literal;
    }

    /// <summary>The literal data ended: nothing may follow it, the MDC must match and the input must end.</summary>
    private void Complete()
    {
        if (IsSigned)
        {
            CheckSignature();
        }

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

    /// <summary>The literal data ended in a signed stream: the signature packet must follow and (with a verify key) match.</summary>
    private void CheckSignature()
    {
        var header = PacketFormat.TryReadHeader(_literalSource!, OpenPgpFailure.Tampered, OpenPgpFailure.Tampered);
        if (header is not { Tag: PacketHeader.Signature } signatureHeader)
        {
            throw new OpenPgpException(OpenPgpFailure.BadSignature, "the signature packet announced before the data is missing after it");
        }

        var signature = SignaturePackets.ParseSignature(PacketFormat.ReadSmallBody(_literalSource!, signatureHeader, 1 << 16, "signature packet"));
        if (_verifyKey is null)
        {
            return;
        }

        if (signature.IssuerFingerprint is not { } issuer || !issuer.AsSpan().SequenceEqual(_verifyKey.Fingerprint))
        {
            throw new OpenPgpException(OpenPgpFailure.BadSignature, $"the signature does not name the verify key {_verifyKey.FingerprintHex} as its issuer");
        }

        _signatureHash!.Append(signature.HashedPart);
        _signatureHash.Append(SignaturePackets.Trailer(signature.HashedPart.Length));
        var digest = _signatureHash.GetHashAndReset();
        if (digest[0] != signature.Left16[0] || digest[1] != signature.Left16[1] || !_verifyKey.Verifies(digest, signature.Rs))
        {
            throw new OpenPgpException(OpenPgpFailure.BadSignature, $"the signature by {_verifyKey.FingerprintHex} does not match the data (BAD signature)");
        }

        if (signature.BindingNotation != LiteralName)
        {
            throw new OpenPgpException(OpenPgpFailure.BadSignature, "the binding in the signature differs from the binding in the literal packet");
        }

        IsSignatureVerified = true;
    }
}
