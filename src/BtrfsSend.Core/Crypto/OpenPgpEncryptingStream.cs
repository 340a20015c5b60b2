using System.Security.Cryptography;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// Write-only stream that encrypts into <c>output</c> as gpg 2.2 writes it: session key packet(s),
/// then an integrity-protected data packet (v1, MDC) holding one binary literal data packet, both
/// with partial body lengths so any length streams in bounded memory (two chunk buffers). The
/// literal packet's file name field carries the stream binding; with a signing key the literal
/// packet sits between a one-pass signature and a signature packet (docs/stream-format.md).
/// The message is complete only after <see cref="FinishAsync"/>: disposing without it leaves an
/// unterminated packet that gpg and <see cref="OpenPgpDecryption"/> reject as truncated, so a
/// failed source can never be stored as a valid, shorter stream. Does not own <c>output</c>.
/// Writes are synchronous on <c>output</c>; use it from a dedicated copy loop.
/// </summary>
public sealed class OpenPgpEncryptingStream : Stream
{
    private readonly Stream _output;
    private readonly int _chunkShift;
    private readonly PartialBodyWriter _outer;
    private readonly AesCfb _cfb;
    private readonly BackgroundSha1 _mdc;
    private readonly byte[] _literal;
    private readonly string _signedBinding;
    private readonly SigningKey? _signer;
    private readonly BackgroundSha1? _signatureHash;
    private int _literalCount;
    private int _unhashed;
    private bool _isFinished;
    private bool _isBroken;
    private bool _isDisposed;

    internal OpenPgpEncryptingStream(Stream output, byte[] sessionPackets, byte[] sessionKey, int chunkShift, byte[] binding, SigningKey? signer, string signedBinding)
    {
        _signedBinding = signedBinding;
        _signer = signer;
        _output = output;
        _chunkShift = chunkShift;
        _literal = new byte[1 << chunkShift];
        _mdc = new BackgroundSha1(1 << chunkShift);
        _cfb = new AesCfb(sessionKey);
        CryptographicOperations.ZeroMemory(sessionKey);
        _output.Write(sessionPackets);
        _output.WriteByte(0xC0 | PacketHeader.IntegrityProtectedData);
        _outer = new PartialBodyWriter(output, chunkShift);
        _outer.Write([1]);

        var prefix = new byte[18];
        RandomNumberGenerator.Fill(prefix.AsSpan(0, 16));
        prefix[16] = prefix[14];
        prefix[17] = prefix[15];
        Emit(prefix);
        if (signer is not null)
        {
            // The signature hash runs on another core, in the same pass as AES and the MDC.
            _signatureHash = new BackgroundSha1(1 << chunkShift, HashAlgorithmName.SHA256);
            Emit(SignaturePackets.OnePass(signer.KeyId));
        }

        Emit([0xC0 | PacketHeader.Literal]);

        // Literal body header: binary, the binding as file name (gpg -d ignores it), date 0.
        _literal[0] = (byte)'b';
        _literal[1] = (byte)binding.Length;
        binding.CopyTo(_literal, 2);
        _literalCount = 6 + binding.Length;
        _unhashed = _literalCount;
    }

    /// <summary>Plaintext bytes written so far.</summary>
    public long PlaintextBytes { get; private set; }

    /// <summary>True once <see cref="FinishAsync"/> has written the MDC and the final lengths.</summary>
    public bool IsFinished => _isFinished;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_isDisposed && !_isFinished;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        EnsureWritable();
        _isBroken = true;
        while (!buffer.IsEmpty)
        {
            if (_literalCount == _literal.Length)
            {
                _signatureHash?.Append(_literal.AsSpan(_unhashed));
                _unhashed = 0;
                Emit([(byte)(0xE0 | _chunkShift)]);
                Emit(_literal);
                _literalCount = 0;
            }

            var n = Math.Min(buffer.Length, _literal.Length - _literalCount);
            buffer[..n].CopyTo(_literal.AsSpan(_literalCount));
            _literalCount += n;
            PlaintextBytes += n;
            buffer = buffer[n..];
        }

        _isBroken = false;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Ends the message: the last literal chunk, the MDC, the final lengths, then flushes
    /// <c>output</c>. Call it only once the source is known to be complete and correct.
    /// </summary>
    public async Task FinishAsync(CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        cancellationToken.ThrowIfCancellationRequested();
        _isBroken = true;
        _signatureHash?.Append(_literal.AsSpan(_unhashed, _literalCount - _unhashed));
        Emit(PacketFormat.EncodeLength(_literalCount));
        Emit(_literal.AsSpan(0, _literalCount));
        if (_signer is not null)
        {
            var hashed = SignaturePackets.HashedPart(DateTimeOffset.UtcNow, _signer.Fingerprint, _signedBinding);
            _signatureHash!.Append(hashed);
            _signatureHash.Append(SignaturePackets.Trailer(hashed.Length));
            var digest256 = _signatureHash.GetHashAndReset();
            Emit(SignaturePackets.Signature(hashed, _signer.KeyId, digest256, _signer.SignDigest(digest256)));
        }

        Emit([0xC0 | PacketHeader.Mdc, 20]);
        var digest = _mdc.GetHashAndReset();
        _cfb.Encrypt(digest, digest);
        _outer.Write(digest);
        _outer.Finish();
        _isFinished = true;
        _isBroken = false;
        await _output.FlushAsync(cancellationToken);
    }

    public override void Flush()
    {
        // Nothing is flushed early on purpose: the chunk buffers go out when full or on FinishAsync.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_isDisposed)
        {
            _isDisposed = true;
            _mdc.Dispose();
            _signatureHash?.Dispose();
            Array.Clear(_literal);
            _outer.Clear();
        }

        base.Dispose(disposing);
    }

    private void EnsureWritable()
    {
        ObjectDisposedException.ThrowIf(_isDisposed, this);
        if (_isFinished)
        {
            throw new InvalidOperationException("the OpenPGP stream is already finished");
        }

        if (_isBroken)
        {
            throw new InvalidOperationException("an earlier write to the OpenPGP stream failed; the output is incomplete");
        }
    }

    /// <summary>Hashes plaintext for the MDC, encrypts it in place and passes it to the outer packet.</summary>
    private void Emit(Span<byte> plaintext)
    {
        _mdc.Append(plaintext);
        _cfb.Encrypt(plaintext, plaintext);
        _outer.Write(plaintext);
    }
}
