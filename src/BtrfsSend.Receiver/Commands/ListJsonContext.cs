using System.Text.Json.Serialization;

namespace BtrfsSend.Receiver.Commands;

/// <summary>
/// <c>list --json</c>'s serializer, generated at compile time: the native (NativeAOT) receiver has
/// no reflection-based serializer, and the JIT build writes the same bytes through the same code.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(List<ListJsonRow>))]
internal sealed partial class ListJsonContext : JsonSerializerContext;
