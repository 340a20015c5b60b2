using System.Text;

namespace BtrfsSend.Producer.Backup;

/// <summary>Keeps the last few KiB of a child's stderr for error messages, draining the rest.</summary>
internal sealed class TailBuffer(int capacity = 8192)
{
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
}
