using BtrfsSend.Core.Binding;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Streams;
using BtrfsSend.Producer.Backup;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// One link, streaming with bounded memory: stored bytes (checked by the source) → OpenPGP
/// decryption (MDC; the binding checked against the chain first, the signature in public-key
/// mode at the end) → <c>zstd -d</c> when the stream is compressed → send-stream validator
/// (structure, CRC32C of every command, END) → either nowhere (verify) or
/// <c>btrfs receive -e DIR</c>. gpg and this decryptor release plaintext before the MDC is
/// checked (docs/architecture.md, pipe trap 3), so the last buffer — which holds the END command btrfs receive
/// finalizes a subvolume on — is held back (<see cref="HoldBackCopy"/>) until the MDC, the
/// validator, the source's count/hash/trailer and (for zstd) the whole compressed input all
/// passed; on any failure btrfs receive is killed, so it never sees END. The caller still deletes
/// whatever it left behind.
/// </summary>
internal sealed class LinkPipeline
{
    internal const int BufferSize = StreamPipeline.BufferSize;

    /// <summary><c>zstd -d</c> to stdout, quiet: the inverse of <see cref="SendPipeline.ZstdArgv"/>.</summary>
    internal static readonly string[] ZstdDecompressArgv = ["zstd", "-d", "-q", "-c"];

    /// <summary>The zstd frame magic (0xFD2FB528, little-endian), for links without a manifest (over ssh).</summary>
    private static readonly byte[] ZstdMagic = [0x28, 0xB5, 0x2F, 0xFD];

    private readonly RestoreLink _link;
    private readonly DecryptionKeys _keys;
    private readonly LinkChecks _checks;
    private readonly string? _receiveDirPath;
    private StreamBinding? _binding;
    private bool _isSignatureVerified;
    private SendStreamValidator? _validator;

    private LinkPipeline(RestoreLink link, DecryptionKeys keys, LinkChecks checks, string? receiveDirPath)
    {
        _link = link;
        _keys = keys;
        _checks = checks;
        _receiveDirPath = receiveDirPath;
    }

    /// <summary>
    /// Decrypts and validates <paramref name="link"/>; receives it into <paramref name="receiveDirPath"/> unless null.
    /// One read of the stored bytes: the source hashes them while they are decrypted, and its
    /// check (count, SHA-256 or trailer) runs before the held-back END is released.
    /// </summary>
    public static async Task<LinkResult> RunAsync(
        IRestoreSource source,
        RestoreLink link,
        DecryptionKeys keys,
        LinkChecks checks,
        string? receiveDirPath,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (link.Manifest is { Encryption: StreamEncryption.None })
        {
            throw new PrerequisiteException($"{link.StreamFileName} is stored unencrypted (encryption=none); restore it by hand with 'btrfs receive -f FILE DIR'");
        }

        var pipeline = new LinkPipeline(link, keys, checks, receiveDirPath);
        await source.ReadAsync(link, pipeline.RunStoredAsync, progress, cancellationToken);
        var validator = pipeline._validator;
        return new LinkResult(link, validator?.BytesSeen ?? 0, validator?.CommandCount ?? 0, pipeline._binding, pipeline._isSignatureVerified)
        {
            SubvolumeUuid = validator?.SubvolumeUuid,
            ParentUuid = validator?.ParentUuid,
        };
    }

    /// <summary>The stored bytes → decryption → [zstd -d] → validator → [btrfs receive].</summary>
    private async Task RunStoredAsync(CheckedEndStream stored, CancellationToken cancellationToken)
    {
        using var decrypted = OpenPgpDecryption.Open(stored, _keys);
        _binding = CheckBinding(decrypted, _link, _checks);
        var (input, compressed) = await PlaintextAsync(decrypted, cancellationToken);

        // Runs before the held-back last buffer (END) is released: the signature (checked by the
        // decryptor at the end of the literal data) must have been verified when it is required,
        // and the source's count and SHA-256 (or trailer) must match.
        async Task SourceEndAsync(CancellationToken ct)
        {
            if (_checks.RequireSignature && !decrypted.IsSignatureVerified)
            {
                throw new IntegrityException($"{_link.StreamFileName}: the producer's signature was not verified");
            }

            _isSignatureVerified = decrypted.IsSignatureVerified;
            await stored.EnsureEndAsync(ct);
        }

        if (compressed)
        {
            await DecompressAsync(input, SourceEndAsync, ConsumePlaintextAsync, cancellationToken);
        }
        else
        {
            await ConsumePlaintextAsync(input, SourceEndAsync, cancellationToken);
        }
    }

    /// <summary>The plaintext to validate and whether it is zstd-compressed, checked against what the manifest, list line and binding say.</summary>
    private async Task<(Stream Input, bool Compressed)> PlaintextAsync(OpenPgpDecryptingStream decrypted, CancellationToken cancellationToken)
    {
        if (_binding is { } binding)
        {
            var compressed = binding.Compression == StreamCompression.Zstd;
            if (_link.Manifest is { } bound && bound.Compression != binding.Compression || _link.IsListedZstd && !compressed)
            {
                throw new IntegrityException($"{_link.StreamFileName}: the receiver lists it as compression={(_link.IsDeclaredZstd ? "zstd" : "none")}, but its binding says {(compressed ? "zstd" : "none")}");
            }

            return (decrypted, compressed);
        }

        if (_link.Manifest is { } manifest)
        {
            return (decrypted, manifest.Compression == StreamCompression.Zstd);
        }

        // Over ssh there is no manifest: the plaintext's first bytes tell zstd from a send stream,
        // and must agree with a compression=zstd the receiver listed.
        var prefix = await PrefixedStream.ReadPrefixAsync(decrypted, ZstdMagic.Length, cancellationToken);
        var isZstd = prefix.AsSpan().SequenceEqual(ZstdMagic);
        if (_link.IsListedZstd && !isZstd)
        {
            throw new IntegrityException($"{_link.StreamFileName}: the receiver lists it as compression=zstd, but the decrypted stream does not start with the zstd frame magic");
        }

        return (new PrefixedStream(prefix, decrypted), isZstd);
    }

    /// <summary>The send stream → validator → nowhere (verify) or btrfs receive, END released only after <paramref name="sourceEndCheck"/>.</summary>
    private async Task ConsumePlaintextAsync(Stream plain, Func<CancellationToken, Task> sourceEndCheck, CancellationToken cancellationToken)
    {
        await using var validated = SendStreamValidatingStream.ForReading(plain, leaveOpen: true, expectedVersion: _link.DeclaredSendProto);
        _validator = validated.Validator;
        async Task EndCheckAsync(CancellationToken ct)
        {
            if (_binding is not null && validated.Validator.Version != _binding.SendProto)
            {
                throw new IntegrityException($"{_link.StreamFileName}: the send stream is protocol version {validated.Validator.Version}, but its binding says {_binding.SendProto}");
            }

            await sourceEndCheck(ct);
        }

        if (_receiveDirPath is null)
        {
            await validated.CopyToAsync(Stream.Null, BufferSize, cancellationToken);
            await EndCheckAsync(cancellationToken);
        }
        else
        {
            await ReceiveAsync(validated, EndCheckAsync, _receiveDirPath, cancellationToken);
        }
    }

    /// <summary>
    /// Reads the stream's binding (before any of its data goes anywhere) and refuses a link that is
    /// unbound (unless allowed), unsigned where a signature is required, or bound to another set,
    /// snapshot, kind, parent or parent UUID. Returns null for an allowed unbound stream.
    /// </summary>
    internal static StreamBinding? CheckBinding(OpenPgpDecryptingStream decrypted, RestoreLink link, LinkChecks checks)
    {
        var text = decrypted.ReadBindingText();
        if (checks.RequireSignature && !decrypted.IsSigned)
        {
            throw new IntegrityException($"{link.StreamFileName} is not signed: streams encrypted to a public key must carry the producer's signature (anyone holding the public key can make an unsigned one); refused");
        }

        if (text.Length == 0)
        {
            return checks.AllowUnbound
                ? null
                : throw new IntegrityException($"{link.StreamFileName} is unbound: it does not say which set and snapshot it is (made before streams were bound, or not by btrfs-send-backup); read it only with --allow-unbound");
        }

        var parsed = StreamBinding.Parse(text);
        var binding = parsed.Value ?? throw new IntegrityException($"{link.StreamFileName}: {parsed.Error}; refused");
        if (binding.Contradiction(checks.Set, link.Snapshot, link.Kind, link.Parent) is { } why)
        {
            throw new IntegrityException($"{link.StreamFileName} is not what set {checks.Set} lists: {why}; refused");
        }

        if (checks.ExpectedParentUuid is { } parentUuid && !string.Equals(binding.ParentUuid, parentUuid, StringComparison.OrdinalIgnoreCase))
        {
            throw new IntegrityException($"{link.StreamFileName} is bound to parent UUID {binding.ParentUuid}, but its parent {link.Parent} is {parentUuid}; refused");
        }

        return binding;
    }

    /// <summary>
    /// Runs <c>zstd -d</c> between the decrypted stream and <paramref name="consume"/>. The end
    /// check handed to the consumer passes only when zstd's whole input was read, the source's end
    /// checks (MDC, count, hash) passed and zstd exited 0.
    /// </summary>
    private static async Task DecompressAsync(
        Stream compressed,
        Func<CancellationToken, Task> sourceEndCheck,
        Func<Stream, Func<CancellationToken, Task>, CancellationToken, Task> consume,
        CancellationToken cancellationToken)
    {
        var result = await StreamPipeline.RunAsync(
            [
                new CodeStage("compressed input", async stage =>
                {
                    await compressed.CopyToAsync(stage.Output, BufferSize, stage.CancellationToken);
                    await sourceEndCheck(stage.CancellationToken);
                }),
                new ProcessStage(ZstdDecompressArgv),
                new CodeStage("decompressed output", stage => consume(stage.Input, async _ =>
                {
                    try
                    {
                        await stage.UpstreamSucceededAsync();
                    }
                    catch (PipelineStoppedException stopped)
                    {
                        throw new IntegrityException("zstd -d ended its output before the whole compressed stream was read and checked", stopped);
                    }
                }, stage.CancellationToken)),
            ],
            cancellationToken);
        result.ThrowIfFailed();
    }

    private static async Task ReceiveAsync(SendStreamValidatingStream validated, Func<CancellationToken, Task> endCheck, string dirPath, CancellationToken cancellationToken)
    {
        var result = await StreamPipeline.RunAsync(
            [
                // The validator returns EOF only after END and the MDC; endCheck adds the source's own checks.
                // Overlapped: the next buffer is decrypted and validated while btrfs receive drains the last one.
                new CodeStage("held-back copy", stage => HoldBackCopy.CopyOverlappedAsync(validated, stage.Output, endCheck, BufferSize, stage.CancellationToken)),
                new ProcessStage(BtrfsArgv.Receive(dirPath, stopAtEnd: true)) { MergesStdoutIntoStderr = true, StderrFilter = WithoutChrootNotice },
            ],
            cancellationToken);
        if (result.Failure is PipeCutException cut)
        {
            throw new IntegrityException($"btrfs receive exited 0 before the whole stream was written to it: {StderrTail.LastLines(result.Stages[^1].StandardErrorTail)}", cut);
        }

        result.ThrowIfFailed();
    }

    /// <summary>btrfs receive's stderr without the <c>Chroot to DIR</c> notice --chroot prints even with -q.</summary>
    internal static string WithoutChrootNotice(string stderr)
        => string.Join('\n', stderr.Split('\n').Where(l => !l.StartsWith(BtrfsArgv.ChrootNoticePrefix, StringComparison.Ordinal)));
}
