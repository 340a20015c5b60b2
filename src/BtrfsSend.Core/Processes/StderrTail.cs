using System.Text;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Processes;

/// <summary>
/// Keeps the last few KiB of a child's stderr for error messages, draining the rest so the child
/// never blocks; and renders the last lines of such text, the one way every message quotes a tool.
/// </summary>
public sealed class StderrTail(int capacity = ToolRunner.TailCapacity)
{
    /// <summary>What a message says when the tool printed nothing.</summary>
    public const string Nothing = "(no error output)";

    /// <summary>How much of the quoted lines a message carries (escaped: the text may come from the far side of ssh).</summary>
    public const int MaxQuoted = 400;

    private readonly Queue<byte> _bytes = new();

    public string Text
    {
        get
        {
            lock (_bytes)
            {
                return Encoding.UTF8.GetString(_bytes.ToArray());
            }
        }
    }

    /// <summary>Drains <paramref name="source"/>, keeping its last bytes.</summary>
    public async Task CopyFromAsync(Stream source, CancellationToken cancellationToken)
    {
        var chunk = new byte[4096];
        int n;
        while ((n = await source.ReadAsync(chunk, cancellationToken)) > 0)
        {
            lock (_bytes)
            {
                for (var i = 0; i < n; i++)
                {
                    _bytes.Enqueue(chunk[i]);
                    if (_bytes.Count > capacity)
                    {
                        _bytes.Dequeue();
                    }
                }
            }
        }
    }

    /// <summary>The last <paramref name="count"/> non-empty lines of <paramref name="text"/>, joined by " | ", printable; <see cref="Nothing"/> when there are none.</summary>
    public static string LastLines(string text, int count = 2)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? Nothing : NameText.Printable(string.Join(" | ", lines.TakeLast(count)), MaxQuoted);
    }
}
