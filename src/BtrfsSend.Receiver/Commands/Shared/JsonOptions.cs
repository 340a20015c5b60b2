using System.Text.Json;

namespace BtrfsSend.Receiver.Commands.Shared;

internal static class JsonOptions
{
    public static JsonSerializerOptions Indented { get; } = new() { WriteIndented = true };
}
