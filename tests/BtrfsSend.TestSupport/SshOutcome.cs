using System.Text;

namespace BtrfsSend.TestSupport;

/// <summary>What one ssh client run produced: its exit code (the forced command's, through ssh), stdout bytes and stderr text.</summary>
public sealed record SshOutcome(int ExitCode, byte[] StandardOutput, string StandardError)
{
    /// <summary>stdout as ASCII (the receiver's answer lines are printable ASCII).</summary>
    public string StandardOutputText => Encoding.ASCII.GetString(StandardOutput);

    /// <summary>stdout split into lines, without the trailing empty one.</summary>
    public IReadOnlyList<string> Lines => StandardOutputText.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString()
        => $"exit {ExitCode}; stdout: {Truncate(StandardOutputText)}; stderr: {Truncate(StandardError)}";

    private static string Truncate(string text) => text.Length <= 2000 ? text : text[..2000] + "...";
}
