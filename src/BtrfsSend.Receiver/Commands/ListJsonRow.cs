using System.Text.Json.Serialization;

namespace BtrfsSend.Receiver.Commands;

/// <summary>One stored stream in <c>list --json</c>; the properties are written in this order.</summary>
internal sealed record ListJsonRow(
    [property: JsonPropertyName("set")] string Set,
    [property: JsonPropertyName("snapshot")] string Snapshot,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("parent")] string? Parent,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("received_at")] string ReceivedAt,
    [property: JsonPropertyName("client")] string Client);
