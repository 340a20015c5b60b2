using System.Text;

namespace BtrfsSend.Receiver.Tests.Support;

/// <summary>What one in-process forced-command invocation produced.</summary>
public sealed record ServeResult(int ExitCode, byte[] Stdout, IReadOnlyList<string> Log)
{
    public string StdoutText => Encoding.ASCII.GetString(Stdout);

    public IReadOnlyList<string> StdoutLines => StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
