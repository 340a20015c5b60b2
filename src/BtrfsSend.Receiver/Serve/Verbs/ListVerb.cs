using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary>
/// <c>list &lt;set&gt;</c>: one line per committed stream, oldest first. An unusable store is refused,
/// never listed as an empty set (the producer would plan a full). Removes temp files a killed
/// upload left when the set is idle.
/// </summary>
internal sealed class ListVerb(ServeContext context)
{
    public async Task<int> ServeAsync(ListRequest request)
    {
        context.RequireAllowed(request.Set);
        if (StoreUsability.ProblemForReading(context.Options) is { } unusable)
        {
            throw new ServeRefusal(ErrorCodes.StoreUnusable, unusable);
        }

        SetDirectory.RequireNoSymlink(context.Store.RootDirPath, request.Set);
        CleanStaleTempsIfIdle(request.Set);
        var contents = context.Store.Read(request.Set);
        foreach (var problem in contents.Problems)
        {
            context.Log.Warning("set {Set}: {Problem}", request.Set, problem);
        }

        foreach (var stream in contents.Streams.OrderBy(s => s.Manifest.Snapshot.TimestampUtc).ThenBy(s => s.Manifest.Snapshot.Value, StringComparer.Ordinal))
        {
            var m = stream.Manifest;
            await context.WriteLineAsync(new ListEntryLine(m.Snapshot, m.Kind == StreamKind.Incremental, m.Parent, m.StreamBytes, m.ReceivedAtUtc)
            {
                CanaryToken = m.CanaryToken,
                Compression = m.Compression,
                SendProto = m.SendProto,
            }.Render());
        }

        return 0;
    }

    /// <summary>After a SIGKILL the temp file stays; any verb that finds the set idle removes it.</summary>
    private void CleanStaleTempsIfIdle(BackupSet set)
    {
        if (!Directory.Exists(context.Store.SetDirPath(set)))
        {
            return;
        }

        using var setLock = context.Store.TryLock(set);
        if (setLock is null)
        {
            return; // an upload is running; its temp file is not stale
        }

        foreach (var path in context.Store.DeleteStaleTemps(setLock, set))
        {
            context.Log.Warning("set {Set}: removed stale temp file {Path} left by an interrupted upload", set, path);
        }
    }
}
