using System.Text.Json.Serialization;

namespace BtrfsSend.Receiver.Checks;

/// <summary>
/// <c>check --json</c>'s serializer, generated at compile time: the native (NativeAOT) receiver has
/// no reflection-based serializer, and the JIT build writes the same bytes through the same code.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(CheckJson))]
[JsonSerializable(typeof(OffsiteSetJson))]
internal sealed partial class CheckJsonContext : JsonSerializerContext;
