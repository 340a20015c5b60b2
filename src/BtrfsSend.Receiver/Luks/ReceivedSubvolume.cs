using System.Globalization;

namespace BtrfsSend.Receiver.Luks;

/// <summary>What <c>btrfs subvolume show</c> says about a received subvolume. Only a read-only one with a received UUID is a finished receive (docs/architecture.md).</summary>
internal sealed record ReceivedSubvolume(string ReceivedUuid, bool IsReadOnly, DateTimeOffset? ReceivedAt)
{
    public bool IsComplete => IsReadOnly && ReceivedUuid != "-" && ReceivedUuid.Length > 0;

    /// <summary>Parses the output of <c>btrfs subvolume show</c> (btrfs-progs 6.x layout: "Key:\tvalue" lines).</summary>
    public static ReceivedSubvolume Parse(string showOutput)
    {
        string received = "-";
        var readOnly = false;
        DateTimeOffset? receivedAt = null;
        DateTimeOffset? created = null;
        foreach (var raw in showOutput.Split('\n'))
        {
            var line = raw.Trim();
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "Received UUID":
                    received = value;
                    break;
                case "Flags":
                    readOnly = value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Contains("readonly", StringComparer.Ordinal);
                    break;
                case "Receive time":
                    receivedAt = ParseTime(value);
                    break;
                case "Creation time":
                    created = ParseTime(value);
                    break;
            }
        }

        return new ReceivedSubvolume(received, readOnly, receivedAt ?? created);
    }

    /// <summary>"2026-11-23 05:21:08 +0000" as btrfs-progs prints it.</summary>
    internal static DateTimeOffset? ParseTime(string value)
        => DateTimeOffset.TryParseExact(value, "yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
            || (value.Length > 5 && DateTimeOffset.TryParseExact(value[..^2] + ":" + value[^2..], "yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out t))
            ? t
            : null;
}
