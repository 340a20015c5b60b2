using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary><c>list-received &lt;set&gt;</c>: one line per finished receive in the set, oldest first.</summary>
internal sealed class ListReceivedVerb(ServeContext context)
{
    public async Task<int> ServeAsync(ListReceivedRequest request, CancellationToken cancellationToken)
    {
        var (store, volumeLock) = LuksAccess.OpenReceivedSet(context, request.Set);
        using (volumeLock)
        {
            foreach (var (name, subvolume) in await store.ListCompleteAsync(request.Set, cancellationToken))
            {
                var at = subvolume.ReceivedAt ?? DateTimeOffset.UnixEpoch;
                await context.WriteLineAsync(new ListEntryLine(name, false, null, 0, at.UtcDateTime).Render());
            }
        }

        return 0;
    }
}
