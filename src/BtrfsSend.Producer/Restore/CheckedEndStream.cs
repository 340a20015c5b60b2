using System.Globalization;
using System.Security.Cryptography;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Streams;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// A read-only pass-through that counts (and, when a SHA-256 is expected, hashes) the stored
/// bytes of one link, and turns the inner stream's EOF into <see cref="IntegrityException"/>
/// unless the count and hash match what the manifest or the receiver's list declared. Reading
/// it to EOF, or <see cref="EnsureEndAsync"/>, is the source's whole check.
/// The inner stream is read, counted and hashed on a read-ahead thread (<see cref="ReadAhead"/>,
/// <see cref="SlotCount"/> × <see cref="SlotSize"/> bytes ahead) while the caller decrypts; the
/// caller still sees the bytes in order and the end (0, or the count or hash mismatch) only
/// after every byte before it, exactly as if it read the inner stream itself.
/// </summary>
internal sealed class CheckedEndStream : ReadOnlyStream
{
    /// <summary>Buffers the read-ahead thread may fill before the caller takes them.</summary>
    internal const int SlotCount = 4;

    /// <summary>The read-ahead's read size (the decryptor reads in buffers of this size too).</summary>
    internal const int SlotSize = 256 * 1024;

    private readonly Stream _inner;
    private readonly long _expectedBytes;
    private readonly string? _expectedSha256Hex;
    private readonly string _what;
    private readonly IProgress<long>? _progress;
    private readonly IncrementalHash? _hash;
    private readonly ReadAhead _readAhead;
    private long _pumpedBytes;
    private IntegrityException? _pumpFailure;
    private IntegrityException? _failure;

    public CheckedEndStream(Stream inner, long expectedBytes, string? expectedSha256Hex, string what, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _expectedBytes = expectedBytes;
        _expectedSha256Hex = expectedSha256Hex;
        _what = what;
        _progress = progress;
        _hash = expectedSha256Hex is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        _readAhead = new ReadAhead(ReadAndCheck, SlotCount, SlotSize, "stored read-ahead");
    }

    /// <summary>Stored bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>True once the inner stream ended and count (and hash) matched.</summary>
    public bool IsVerified { get; private set; }

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    /// <summary>Reads whatever is left and runs the end checks; throws unless they pass.</summary>
    public async Task EnsureEndAsync(CancellationToken cancellationToken = default)
    {
        var buffer = new byte[64 * 1024];
        while (await ReadAsync(buffer, cancellationToken) > 0)
        {
        }
    }

    /// <summary>
    /// After <paramref name="failure"/> stopped the reading partway (the MDC, the validator or a
    /// garbled packet), tells a modified file from a bad key or a bad producer: when a SHA-256 is
    /// expected, reads the rest and returns the mismatch (naming the first failure) if the file no
    /// longer matches its manifest, else <paramref name="failure"/> unchanged. A wrong passphrase
    /// or key, a cancellation and this stream's own failure are returned as they are, unread.
    /// </summary>
    public async Task<Exception> ExplainAsync(Exception failure, CancellationToken cancellationToken = default)
    {
        if (_hash is null || _failure is not null || IsVerified
            || failure is OperationCanceledException or OpenPgpException { Failure: OpenPgpFailure.WrongPassphrase or OpenPgpFailure.WrongKey })
        {
            return failure;
        }

        try
        {
            await EnsureEndAsync(cancellationToken);
        }
        catch (IntegrityException mismatch) when (ReferenceEquals(mismatch, _failure))
        {
            return new IntegrityException($"{mismatch.Message}; reading it had stopped at: {failure.Message}", failure);
        }
        catch (Exception ex) when (ex is IOException or BtrfsSendException or OperationCanceledException)
        {
            return failure;
        }

        return failure;
    }

    public override int Read(Span<byte> buffer)
    {
        ThrowIfFailed();
        if (buffer.IsEmpty || IsVerified)
        {
            return 0;
        }

        try
        {
            return Delivered(_readAhead.Read(buffer));
        }
        catch (IntegrityException ex) when (ReferenceEquals(ex, _pumpFailure))
        {
            _failure = ex;
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfFailed();
        if (buffer.IsEmpty || IsVerified)
        {
            return 0;
        }

        try
        {
            return Delivered(await _readAhead.ReadAsync(buffer, cancellationToken));
        }
        catch (IntegrityException ex) when (ReferenceEquals(ex, _pumpFailure))
        {
            _failure = ex;
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _readAhead.Stop())
        {
            _readAhead.Dispose();
            _hash?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>The caller's side: bytes handed over (0 only after the read-ahead's end checks passed).</summary>
    private int Delivered(int n)
    {
        if (n == 0)
        {
            IsVerified = true;
            return 0;
        }

        BytesRead += n;
        _progress?.Report(BytesRead);
        return n;
    }

    /// <summary>The read-ahead thread's side: reads, counts and hashes; at the inner EOF checks count and hash.</summary>
    private int ReadAndCheck(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        if (n > 0)
        {
            _pumpedBytes += n;
            _hash?.AppendData(buffer[..n]);
            if (_pumpedBytes > _expectedBytes)
            {
                throw Fail($"is longer than the {_expectedBytes} bytes recorded for it");
            }

            return n;
        }

        if (_pumpedBytes != _expectedBytes)
        {
            throw Fail(string.Create(CultureInfo.InvariantCulture, $"ended after {_pumpedBytes} bytes, but {_expectedBytes} are recorded for it (truncated)"));
        }

        if (_hash is not null)
        {
            var actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
            if (!string.Equals(actual, _expectedSha256Hex, StringComparison.Ordinal))
            {
                throw Fail($"has SHA-256 {actual}, but its manifest records {NameText.Printable(_expectedSha256Hex!)} (modified or corrupt)");
            }
        }

        return 0;
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw _failure;
        }
    }

    private IntegrityException Fail(string problem) => _pumpFailure = new IntegrityException($"{_what} {problem}");
}
