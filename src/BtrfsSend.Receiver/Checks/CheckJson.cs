using System.Text.Json.Serialization;

namespace BtrfsSend.Receiver.Checks;

/// <summary><c>check --json</c>'s document; the properties are written in this order.</summary>
internal sealed record CheckJson(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("exit_code")] int ExitCode,
    [property: JsonPropertyName("free_bytes")] long? FreeBytes,
    [property: JsonPropertyName("sets")] IReadOnlyList<SetJson> Sets,
    [property: JsonPropertyName("findings")] IReadOnlyList<FindingJson> Findings);
