using System.Text.Json;

namespace BtrfsSend.Receiver.Commands.Base;

internal static class JsonOptions
{
    public static JsonSerializerOptions Indented { get; } = new() { WriteIndented = true };
}
