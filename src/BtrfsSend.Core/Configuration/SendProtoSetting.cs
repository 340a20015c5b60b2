namespace BtrfsSend.Core.Configuration;

/// <summary>SEND_PROTO: which btrfs send stream protocol the producer asks for.</summary>
public enum SendProtoSetting
{
    /// <summary><c>1</c>: protocol 1, which every btrfs receive reads (the default).</summary>
    V1,

    /// <summary><c>2</c>: protocol 2; the run fails unless kernel and btrfs-progs both support it.</summary>
    V2,

    /// <summary><c>auto</c>: protocol 2 when kernel and btrfs-progs both support it, else 1.</summary>
    Auto,
}
