using System.Security.Cryptography;
using BtrfsSend.Core.Streams;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// Decrypts the body of an integrity-protected data packet (after its version byte and the
/// 18-byte prefix) and checks the MDC. The last 22 plaintext bytes are the MDC packet, so they
/// are held back; at the end of the body the SHA-1 is compared before the final bytes are
/// released, and a mismatch throws <see cref="OpenPgpFailure.Tampered"/>. Returns 0 only after
/// a matching MDC.
/// </summary>
internal sealed class MdcDecryptingReader : ReadOnlyStream
{
    private const int MdcLength = 22;
    private readonly Stream _ciphertext;
    private readonly AesCfb _cfb;
    private readonly BackgroundSha1 _hash;
    private readonly byte[] _buffer = new byte[1 << 18];
    private int _start;
    private int _end;
    private int _hashed;
    private bool _isAtEnd;

    public MdcDecryptingReader(Stream ciphertext, AesCfb cfb, BackgroundSha1 hashWithPrefix)
    {
        _ciphertext = ciphertext;
        _cfb = cfb;
        _hash = hashWithPrefix;
    }

    public bool IsVerified { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (!_isAtEnd && _end - _start <= MdcLength)
        {
            Fill();
        }

        var available = _end - _start - MdcLength;
        if (available <= 0)
        {
            return 0;
        }

        var n = Math.Min(available, buffer.Length);
        _buffer.AsSpan(_start, n).CopyTo(buffer);
        _start += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            Array.Clear(_buffer);
        }

        base.Dispose(disposing);
    }

    private void Fill()
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _hashed -= _start;
            _start = 0;
        }

        // Fill the whole buffer (gpg writes 8 KiB partial chunks): fewer, larger hash and copy steps.
        while (_end < _buffer.Length)
        {
            var n = _ciphertext.Read(_buffer.AsSpan(_end));
            if (n == 0)
            {
                _isAtEnd = true;
                Verify();
                return;
            }

            _cfb.Decrypt(_buffer.AsSpan(_end, n), _buffer.AsSpan(_end, n));
            _end += n;
        }

        // Hash in large runs whatever the consumer's read size: all but the last 22 bytes are data.
        var safe = _end - MdcLength;
        if (safe > _hashed)
        {
            _hash.Append(_buffer.AsSpan(_hashed, safe - _hashed));
            _hashed = safe;
        }
    }

    /// <summary>Hashes everything not yet released plus the MDC header and compares with the MDC.</summary>
    private void Verify()
    {
        if (_end - _start < MdcLength)
        {
            throw new OpenPgpException(OpenPgpFailure.Tampered, "the encrypted data is too short to hold its MDC");
        }

        var mdcStart = _end - MdcLength;
        _hash.Append(_buffer.AsSpan(_hashed, mdcStart - _hashed));
        _hash.Append(_buffer.AsSpan(mdcStart, 2));
        var digest = _hash.GetHashAndReset();
        var isMatch = _buffer[mdcStart] == (0xC0 | PacketHeader.Mdc) && _buffer[mdcStart + 1] == 20
            && CryptographicOperations.FixedTimeEquals(digest, _buffer.AsSpan(mdcStart + 2, 20));
        if (!isMatch)
        {
            throw new OpenPgpException(OpenPgpFailure.Tampered, "the modification detection code (MDC) does not match the data");
        }

        IsVerified = true;
    }
}
