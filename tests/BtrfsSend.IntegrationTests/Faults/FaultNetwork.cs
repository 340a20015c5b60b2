using System.Globalization;
using BtrfsSend.Core.Processes;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// A private network namespace (<c>ip netns add</c>, its own loopback) that the fault world's sshd
/// and producer runs live in, so that the faults injected on the network — <c>ss -K</c> resets
/// and an nft byte quota — can only ever touch this world's own connections (docs/architecture.md: only
/// loopback and namespaces you create carry test traffic). Processes enter it with
/// <see cref="Launcher"/> (<c>nsenter --net</c>, which execs in place: the PID stays the process's own).
/// </summary>
internal sealed class FaultNetwork : IAsyncDisposable
{
    private const string Prefix = "bst-fault-";
    private const string QuotaTable = "bst_fault_quota";

    private FaultNetwork(string name) => Name = name;

    public string Name { get; }

    /// <summary>The argv prefix that runs a program inside the namespace.</summary>
    public IReadOnlyList<string> Launcher => ["nsenter", $"--net=/run/netns/{Name}", "--"];

    public static async Task<FaultNetwork> CreateAsync()
    {
        await RemoveStaleAsync();
        var network = new FaultNetwork($"{Prefix}{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..6]}");
        await Run.OutAsync("ip", "netns", "add", network.Name);
        try
        {
            await Run.OutAsync("ip", "-n", network.Name, "link", "set", "lo", "up");
            return network;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs argv inside the namespace, whatever its exit code.</summary>
    public Task<ToolResult> RunAsync(params string[] argv) => Run.TryAsync([.. Launcher, .. argv]);

    /// <summary>
    /// Destroys every TCP socket in the namespace whose destination is 127.0.0.1:<paramref name="port"/>
    /// (<c>ss -K</c>, needs CONFIG_INET_DIAG_DESTROY): the kernel aborts it and sends a RST to the
    /// peer, exactly what a middlebox or a rebooted router does to a live connection. Returns the
    /// sockets <c>ss</c> listed as killed.
    /// </summary>
    public async Task<IReadOnlyList<string>> ResetConnectionsToAsync(int port)
    {
        var result = await RunAsync("ss", "-K", "-t", "-n", "dst", "127.0.0.1", "dport", "=", port.ToString(CultureInfo.InvariantCulture));
        Assert.True(result.ExitCode == 0, $"ss -K failed (exit {result.ExitCode}): {result.StandardErrorTail}");
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains($":{port.ToString(CultureInfo.InvariantCulture)}", StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>
    /// From now on, after <paramref name="bytes"/> more bytes towards 127.0.0.1:<paramref name="port"/>,
    /// every packet the client sends is silently dropped (<c>nft ... quota over N bytes drop</c>):
    /// a link that goes dead without a reset. The other direction keeps flowing, so the server's
    /// keepalives (ClientAliveInterval) find the dead client.
    /// </summary>
    public async Task LimitUploadAsync(int port, long bytes)
    {
        await NftAsync("add", "table", "inet", QuotaTable);
        await NftAsync("add", "chain", "inet", QuotaTable, "out", "{ type filter hook output priority 0; policy accept; }");
        await NftAsync("add", "rule", "inet", QuotaTable, "out", "ip", "daddr", "127.0.0.1", "tcp", "dport", port.ToString(CultureInfo.InvariantCulture),
            "quota", "over", bytes.ToString(CultureInfo.InvariantCulture), "bytes", "drop");
    }

    /// <summary>The nft ruleset of the namespace (to show the quota was reached).</summary>
    public async Task<string> RulesetAsync() => (await RunAsync("nft", "list", "ruleset")).StandardOutput;

    /// <summary>Removes the quota (no-op when there is none).</summary>
    public async Task RemoveLimitAsync()
    {
        var ruleset = await RulesetAsync();
        if (ruleset.Contains(QuotaTable, StringComparison.Ordinal))
        {
            await NftAsync("delete", "table", "inet", QuotaTable);
        }
    }

    public async ValueTask DisposeAsync() => await Run.TryAsync("ip", "netns", "delete", Name);

    private async Task NftAsync(params string[] args)
    {
        var result = await RunAsync(["nft", .. args]);
        Assert.True(result.ExitCode == 0, $"nft {string.Join(' ', args)} failed (exit {result.ExitCode}): {result.StandardErrorTail}");
    }

    /// <summary>Deletes namespaces left by fault worlds whose test process is gone.</summary>
    private static async Task RemoveStaleAsync()
    {
        if (!Directory.Exists("/run/netns"))
        {
            return;
        }

        foreach (var path in Directory.GetFiles("/run/netns", Prefix + "*"))
        {
            var name = Path.GetFileName(path);
            var owner = name[Prefix.Length..].Split('-')[0];
            if (int.TryParse(owner, CultureInfo.InvariantCulture, out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                await Run.TryAsync("ip", "netns", "delete", name);
            }
        }
    }
}
