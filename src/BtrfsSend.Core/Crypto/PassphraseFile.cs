using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Crypto;

/// <summary>Reads a passphrase the way <c>gpg --passphrase-file</c> does: the bytes of the first line, without its newline.</summary>
internal static class PassphraseFile
{
    public static byte[] ReadFirstLine(string filePath)
    {
        byte[] all;
        try
        {
            all = File.ReadAllBytes(filePath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"passphrase file '{NameText.Printable(filePath)}' cannot be read: {ex.Message}", ex);
        }

        // gpg reads up to the first '\n' and keeps everything else (a '\r' too), so do we.
        var end = Array.IndexOf(all, (byte)'\n');
        var line = end < 0 ? (byte[])all.Clone() : all[..end];
        Array.Clear(all);
        if (line.Length == 0)
        {
            throw new ConfigException($"passphrase file '{NameText.Printable(filePath)}' has an empty first line; gpg uses the first line as the passphrase, it must not be empty");
        }

        return line;
    }
}
