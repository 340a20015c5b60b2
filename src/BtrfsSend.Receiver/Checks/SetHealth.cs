namespace BtrfsSend.Receiver.Checks;

/// <summary>Numbers about one set, for perfdata, JSON and Prometheus.</summary>
internal sealed record SetHealth(string Set, int Streams, long Bytes, DateTime? NewestReceivedAtUtc, double? NewestAgeSeconds, int Verified);
