using System.Globalization;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Btrfs;

/// <summary>
/// The send protocol a run uses (SEND_PROTO, SEND_COMPRESSED_DATA) and how it is chosen from what
/// this machine supports: the kernel's highest stream version
/// (<see cref="KernelVersionFilePath"/>; absent on old kernels, which send only 1) and whether
/// <c>btrfs send --help</c> lists <c>--proto</c> (btrfs-progs 6.0 and later).
/// </summary>
/// <param name="Version">1 or 2: passed to <c>btrfs send --proto</c>, declared as <c>proto=</c>.</param>
/// <param name="CompressedData">True: <c>btrfs send --compressed-data</c> (protocol 2 only).</param>
public sealed record SendProtocol(int Version, bool CompressedData)
{
    /// <summary>The kernel's highest send stream version; the file does not exist on kernels that only send version 1.</summary>
    public const string KernelVersionFilePath = "/sys/fs/btrfs/features/send_stream_version";

    public static SendProtocol V1 { get; } = new(1, false);

    /// <summary>
    /// Chooses the protocol for <paramref name="setting"/>; throws <see cref="PrerequisiteException"/>
    /// when SEND_PROTO=2 (or SEND_COMPRESSED_DATA=yes with SEND_PROTO=2) asks for what this machine lacks.
    /// With <c>auto</c> and no protocol 2 support, compressed data is dropped with the protocol.
    /// </summary>
    /// <param name="kernelMaxVersion">The number in <see cref="KernelVersionFilePath"/>, or 1 when it does not exist.</param>
    /// <param name="progsHasProto">True when <c>btrfs send --help</c> lists <c>--proto</c>.</param>
    /// <param name="progsHasCompressedData">True when <c>btrfs send --help</c> lists <c>--compressed-data</c>.</param>
    public static SendProtocol Choose(SendProtoSetting setting, bool compressedData, int kernelMaxVersion, bool progsHasProto, bool progsHasCompressedData)
    {
        var v2 = kernelMaxVersion >= 2 && progsHasProto;
        if (setting == SendProtoSetting.V1)
        {
            return V1;
        }

        if (setting == SendProtoSetting.V2 && !v2)
        {
            throw new PrerequisiteException(Missing("SEND_PROTO=2", kernelMaxVersion, progsHasProto) + "; set SEND_PROTO=1 or auto");
        }

        if (!v2)
        {
            return V1;
        }

        if (compressedData && !progsHasCompressedData)
        {
            throw new PrerequisiteException("SEND_COMPRESSED_DATA=yes needs btrfs-progs whose 'btrfs send' has --compressed-data (6.0 or later); set SEND_COMPRESSED_DATA=no");
        }

        return new SendProtocol(2, compressedData);
    }

    /// <summary>Parses the content of <see cref="KernelVersionFilePath"/> (null: the file does not exist → 1).</summary>
    public static int ParseKernelVersion(string? text)
        => text is null ? 1
            : int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1 ? v
            : throw new PrerequisiteException($"{KernelVersionFilePath} holds '{text.Trim()}', not a stream version number");

    /// <summary>The extra <c>btrfs send</c> options: none for protocol 1 (every btrfs-progs sends 1 by default).</summary>
    public IReadOnlyList<string> SendOptions()
        => Version == 1 ? [] : CompressedData ? ["--proto", "2", "--compressed-data"] : ["--proto", "2"];

    public string Describe() => Version == 1 ? "send protocol 1" : CompressedData ? "send protocol 2 with compressed data" : "send protocol 2";

    private static string Missing(string what, int kernel, bool progs)
        => (kernel < 2, !progs) switch
        {
            (true, true) => $"{what}: neither this kernel (send stream version {kernel}) nor btrfs-progs ('btrfs send' has no --proto) supports protocol 2",
            (true, false) => $"{what}: this kernel only sends stream version {kernel} ({KernelVersionFilePath}; protocol 2 needs Linux 6.0 or later)",
            _ => $"{what}: this btrfs-progs' 'btrfs send' has no --proto option (protocol 2 needs btrfs-progs 6.0 or later)",
        };
}
