using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Producer.Backup;
using CliWrap;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// One link, streaming with bounded memory: stored bytes (checked by the source) → OpenPGP
/// decryption (MDC) → send-stream validator (structure, CRC32C of every command, END) → either
/// nowhere (verify) or <c>btrfs receive -e DIR</c>. gpg and this decryptor release plaintext
/// before the MDC is checked (PERF-NOTES.md trap 3), so the last buffer — which holds the END
/// command btrfs receive finalizes a subvolume on — is held back until the MDC, the validator
/// and the source's count/hash/trailer all passed; on any failure btrfs receive is killed, so
/// it never sees END. The caller still deletes whatever it left behind.
/// </summary>
internal sealed class LinkPipeline
{
    internal const int BufferSize = 1024 * 1024;

    /// <summary>Decrypts and validates <paramref name="link"/>; receives it into <paramref name="receiveDirPath"/> unless null.</summary>
    public static async Task<LinkResult> RunAsync(
        IRestoreSource source,
        RestoreLink link,
        DecryptionKeys keys,
        string? receiveDirPath,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (link.Manifest is { Compression: not StreamCompression.None } manifest)
        {
            throw new PrerequisiteException($"{link.StreamFileName} is {ManifestKeys.Text(manifest.Compression)}-compressed, which this version does not restore; decrypt it by hand and pipe it through 'zstd -d' into btrfs receive");
        }

        if (link.Manifest is { Encryption: StreamEncryption.None })
        {
            throw new PrerequisiteException($"{link.StreamFileName} is stored unencrypted (encryption=none); restore it by hand with 'btrfs receive -f FILE DIR'");
        }

        long plaintext = 0;
        long commands = 0;
        await source.ReadAsync(link, async (stored, token) =>
        {
            using var decrypted = OpenPgpDecryption.Open(stored, keys);
            await using var validated = SendStreamValidatingStream.ForReading(decrypted, leaveOpen: true);
            if (receiveDirPath is null)
            {
                var buffer = new byte[BufferSize];
                while (await validated.ReadAsync(buffer, token) > 0)
                {
                }

                await stored.EnsureEndAsync(token);
            }
            else
            {
                await ReceiveAsync(stored, validated, receiveDirPath, token);
            }

            plaintext = validated.Validator.BytesSeen;
            commands = validated.Validator.CommandCount;
        }, progress, cancellationToken);
        return new LinkResult(link, plaintext, commands);
    }

    private static async Task ReceiveAsync(CheckedEndStream stored, SendStreamValidatingStream validated, string dirPath, CancellationToken cancellationToken)
    {
        var argv = BtrfsArgv.Receive(dirPath, stopAtEnd: true);
        var stderr = new TailBuffer();
        Exception? failure = null;
        var fed = false;
        using var kill = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        async Task FeedAsync(Stream stdin, CancellationToken _)
        {
            try
            {
                var held = new byte[BufferSize];
                var next = new byte[BufferSize];
                var heldCount = 0;
                int n;
                while ((n = await validated.ReadAsync(next, cancellationToken)) > 0)
                {
                    if (heldCount > 0)
                    {
                        await stdin.WriteAsync(held.AsMemory(0, heldCount), cancellationToken);
                    }

                    (held, next) = (next, held);
                    heldCount = n;
                }

                // The validator returned EOF: END seen, MDC verified. Now the source's own checks.
                await stored.EnsureEndAsync(cancellationToken);
                if (heldCount > 0)
                {
                    await stdin.WriteAsync(held.AsMemory(0, heldCount), cancellationToken);
                }

                fed = true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failure ??= ex;
                await kill.CancelAsync(); // kill btrfs receive before it can see END
            }
        }

        int? exit = null;
        try
        {
            var result = await Cli.Wrap(argv[0]).WithArguments(argv.Skip(1))
                .WithValidation(CommandResultValidation.None)
                .WithStandardInputPipe(PipeSource.Create(FeedAsync))
                .WithStandardOutputPipe(PipeTarget.Create(stderr.CopyFromAsync))
                .WithStandardErrorPipe(PipeTarget.Create(stderr.CopyFromAsync))
                .ExecuteAsync(kill.Token);
            exit = result.ExitCode;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && failure is not null)
        {
            // We killed btrfs receive ourselves after a stage failed.
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (failure is IOException && exit is not (null or 0))
        {
            // btrfs receive stopped reading first: its own error is the reason.
            throw new ToolFailedException(argv, exit.Value, stderr.Text);
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        if (exit != 0)
        {
            throw new ToolFailedException(argv, exit ?? -1, stderr.Text);
        }

        if (!fed)
        {
            // CliWrap swallows a broken pipe on stdin (PERF-NOTES.md trap 1).
            throw new IntegrityException($"btrfs receive exited 0 before the whole stream was written to it: {stderr.Text.Trim()}");
        }
    }
}
