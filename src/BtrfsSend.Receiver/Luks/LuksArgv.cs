namespace BtrfsSend.Receiver.Luks;

/// <summary>
/// Pure argv builders for the LUKS session. Programs come from LUKS_TOOLS_DIR when it is set
/// (an absolute path: under sudo, PATH is secure_path and cannot be redirected), else by name.
/// The key never appears here: <c>--key-file=-</c> makes cryptsetup read it from stdin.
/// </summary>
internal static class LuksArgv
{
    /// <summary><c>cryptsetup luksOpen --key-file=- DEVICE NAME</c>.</summary>
    public static string[] Open(string? toolsDirPath, string devicePath, string name)
        => [Tool(toolsDirPath, "cryptsetup"), "luksOpen", "--key-file=-", devicePath, name];

    /// <summary><c>cryptsetup luksClose NAME</c>.</summary>
    public static string[] Close(string? toolsDirPath, string name)
        => [Tool(toolsDirPath, "cryptsetup"), "luksClose", name];

    /// <summary><c>mount /dev/mapper/NAME DIR</c>.</summary>
    public static string[] Mount(string? toolsDirPath, string name, string mountDirPath)
        => [Tool(toolsDirPath, "mount"), MapperPath(name), mountDirPath];

    /// <summary><c>umount DIR</c>.</summary>
    public static string[] Unmount(string? toolsDirPath, string mountDirPath)
        => [Tool(toolsDirPath, "umount"), mountDirPath];

    public static string MapperPath(string name) => "/dev/mapper/" + name;

    private static string Tool(string? toolsDirPath, string name)
        => toolsDirPath is null ? name : Path.Combine(toolsDirPath, name);
}
