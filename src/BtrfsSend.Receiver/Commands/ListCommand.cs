using System.CommandLine;
using System.Text.Json;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Commands.Shared;
using Serilog;

namespace BtrfsSend.Receiver.Commands;

/// <summary><c>list [--set S] [--json]</c>: the stored streams, for the backup server's admin.</summary>
internal static class ListCommand
{
    public static Command Create(ILogger log)
    {
        var config = ReceiverConfig.CreateOption();
        var set = new Option<string?>("--set") { Description = "Only this backup set (default: every set under BACKUP_ROOT)" };
        var json = new Option<bool>("--json") { Description = "One JSON document instead of text lines" };
        var list = new Command("list", "List stored streams: set, snapshot, kind, parent, bytes, received_at") { config, set, json };
        list.SetAction((parse, _) =>
        {
            var options = ReceiverConfig.Load(parse.GetValue(config)!, log);
            var store = new StreamStore(options.BackupRootDirPath);
            IReadOnlyList<BackupSet> sets = parse.GetValue(set) is { } text ? [ReceiverConfig.ParseSet(text)] : store.DiscoverSets();

            // One buffered writer instead of Console.Out (which flushes every line: one write(2) per stream).
            using var output = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 64 * 1024) { AutoFlush = false };
            var rows = new List<ListJsonRow>();
            foreach (var s in sets)
            {
                var contents = store.Read(s);
                foreach (var problem in contents.Problems)
                {
                    log.Warning("set {Set}: {Problem}", s, problem);
                }

                foreach (var stream in contents.Streams.OrderBy(x => x.Manifest.Snapshot.TimestampUtc))
                {
                    var m = stream.Manifest;
                    if (parse.GetValue(json))
                    {
                        rows.Add(new ListJsonRow(
                            s.Value,
                            m.Snapshot.Value,
                            m.Kind == StreamKind.Full ? "full" : "incremental",
                            m.Parent?.Value,
                            m.StreamBytes,
                            m.StreamSha256,
                            m.ReceivedAtUtc.ToString(ListEntryLine.ReceivedAtFormat, System.Globalization.CultureInfo.InvariantCulture),
                            m.Client));
                    }
                    else
                    {
                        output.WriteLine($"{s} {new ListEntryLine(m.Snapshot, m.Kind == StreamKind.Incremental, m.Parent, m.StreamBytes, m.ReceivedAtUtc).Render()}");
                    }
                }
            }

            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(rows, ListJsonContext.Default.ListListJsonRow));
            }

            output.Flush();
            return Task.FromResult(0);
        });
        return list;
    }
}
