using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Receiver.Serve;

internal sealed partial class ServeSession
{
    private async Task<int> ListAsync(ListRequest request)
    {
        RequireAllowed(request.Set);

        // An unmounted backup disk must not pass for an empty set (the producer would plan a full).
        if (StoreUsability.ProblemForReading(options) is { } unusable)
        {
            throw new ServeRefusal(ErrorCodes.StoreUnusable, unusable);
        }

        SetDirectory.RequireNoSymlink(_store.RootDirPath, request.Set);
        CleanStaleTempsIfIdle(request.Set);
        var contents = _store.Read(request.Set);
        foreach (var problem in contents.Problems)
        {
            log.Warning("set {Set}: {Problem}", request.Set, problem);
        }

        foreach (var stream in contents.Streams.OrderBy(s => s.Manifest.Snapshot.TimestampUtc).ThenBy(s => s.Manifest.Snapshot.Value, StringComparer.Ordinal))
        {
            var m = stream.Manifest;
            await WriteLineAsync(new ListEntryLine(m.Snapshot, m.Kind == StreamKind.Incremental, m.Parent, m.StreamBytes, m.ReceivedAtUtc)
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
        var dir = _store.SetDirPath(set);
        if (!Directory.Exists(dir))
        {
            return;
        }

        using var setLock = _store.TryLock(set);
        if (setLock is null)
        {
            return; // an upload is running; its temp file is not stale
        }

        foreach (var path in _store.DeleteStaleTemps(setLock, set))
        {
            log.Warning("set {Set}: removed stale temp file {Path} left by an interrupted upload", set, path);
        }
    }
}
