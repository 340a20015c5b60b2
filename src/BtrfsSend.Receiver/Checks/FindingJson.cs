using System.Text.Json.Serialization;

namespace BtrfsSend.Receiver.Checks;

/// <summary>One finding in <c>check --json</c>.</summary>
internal sealed record FindingJson(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("set")] string? Set,
    [property: JsonPropertyName("message")] string Message);
