using BtrfsSend.Core.Hosting;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Luks;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary>
/// <c>hello</c>: the version and the modes served. An unusable BACKUP_ROOT is answered
/// <c>ERR store-unusable</c> (an older producer then stops with "refused", still before quiescing);
/// a receiver that also serves remote-btrfs (which does not use BACKUP_ROOT) instead leaves
/// encrypted-stream out of its modes, so that remote-btrfs producers keep working.
/// </summary>
internal sealed class HelloVerb(ServeContext context)
{
    public async Task<int> ServeAsync()
    {
        var version = ProgramVersion.Current.Length <= 64 ? ProgramVersion.Current : ProgramVersion.Current[..64];
        var luks = LuksSession.IsConfigured(context.Options);
        var storeProblem = StoreUsability.ProblemForUploads(context.Options);
        if (storeProblem is not null && !luks)
        {
            throw new ServeRefusal(ErrorCodes.StoreUnusable, storeProblem);
        }

        if (storeProblem is not null)
        {
            context.Log.Warning("hello: encrypted-stream mode not offered: {Problem}", storeProblem);
        }

        string[] modes = !luks ? [HelloLine.EncryptedStreamMode]
            : storeProblem is null ? [HelloLine.EncryptedStreamMode, HelloLine.RemoteBtrfsMode]
            : [HelloLine.RemoteBtrfsMode];
        await context.WriteLineAsync(new HelloLine(version, HelloLine.CurrentProtocol, modes) { OffersSession = true }.Render());
        return 0;
    }
}
