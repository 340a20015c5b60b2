using System.Security.Cryptography;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary>
/// <c>get &lt;set&gt; &lt;snapshot&gt;</c> (only with ALLOW_GET=yes): the stored stream, BSF1-framed. The
/// trailer is sent only when the bytes read match the manifest's size and SHA-256.
/// </summary>
internal sealed class GetVerb(ServeContext context)
{
    public async Task<int> ServeAsync(GetRequest request, CancellationToken cancellationToken)
    {
        if (!context.Options.AllowGet)
        {
            throw new ServeRefusal(ErrorCodes.Disabled, "get is disabled on this receiver (ALLOW_GET=no); copy the files from the backup server instead");
        }

        context.RequireAllowed(request.Set);
        var store = context.Store;
        if (!Directory.Exists(store.RootDirPath))
        {
            // Not "no such snapshot": the store is not there (the backup disk is not mounted?).
            throw new ServeRefusal(ErrorCodes.IoError, "the backup store is not available on this receiver (is the backup disk mounted?); its admin must check; nothing was sent");
        }

        SetDirectory.RequireNoSymlink(store.RootDirPath, request.Set);
        var stream = store.Read(request.Set).Find(request.Snapshot)
            ?? throw new ServeRefusal(ErrorCodes.BadSnapshot, $"snapshot '{request.Snapshot}' is not stored in set '{request.Set}'; 'list {request.Set}' shows what is");

        await using var file = new FileStream(stream.StreamFilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 0);
        await using var framed = new Bsf1Writer(context.Output, leaveOpen: true);
        using var verify = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[ServeSession.BufferSize];
        long total = 0;
        int n;
        while ((n = await file.ReadAsync(buffer, cancellationToken)) > 0)
        {
            verify.AppendData(buffer, 0, n);
            total += n;
            await framed.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
        }

        // Never vouch for bytes that no longer match their manifest: without a trailer the
        // client sees a cut stream and restores nothing from it.
        var actual = Convert.ToHexStringLower(verify.GetHashAndReset());
        if (total != stream.Manifest.StreamBytes || actual != stream.Manifest.StreamSha256)
        {
            context.Log.Error("set {Set}: {File} does not match its manifest (bytes {Bytes} vs {Expected}, sha256 {Actual} vs {ExpectedSha}); sent without a trailer",
                request.Set, stream.StreamFilePath, total, stream.Manifest.StreamBytes, actual, stream.Manifest.StreamSha256);
            return (int)Core.Errors.ExitCode.IntegrityFailed;
        }

        await framed.CompleteAsync(cancellationToken);
        await context.Output.FlushAsync(cancellationToken);
        context.Log.Information("set {Set}: sent {Snapshot} ({Bytes} bytes)", request.Set, request.Snapshot, total);
        return 0;
    }
}
