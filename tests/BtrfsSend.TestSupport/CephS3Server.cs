using BtrfsSend.Core.Processes;

namespace BtrfsSend.TestSupport;

/// <summary>
/// The host's one real S3 server (scripts/lib/s3-ceph.sh: single-node Ceph + radosgw with Object
/// Lock), shared by every test process on the host. This process counts as one user from its first
/// <see cref="Shared"/> to its exit: the script starts the server for the first user and stops it
/// when the last one releases (users whose process died are dropped by the next acquire or release).
/// </summary>
public sealed class CephS3Server
{
    /// <summary>What the script needs on PATH.</summary>
    public static readonly string[] Tools = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "ceph-authtool", "monmaptool", "uuidgen", "curl", "flock"];

    private static readonly Lazy<CephS3Server> Instance = new(Acquire, LazyThreadSafetyMode.ExecutionAndPublication);

    private CephS3Server(Uri endpoint, string accessKey, string secretKey)
    {
        Endpoint = endpoint;
        AccessKey = accessKey;
        SecretKey = secretKey;
    }

    public static string ScriptPath => RepoPaths.Of("scripts", "lib", "s3-ceph.sh");

    /// <summary>The server, started (or joined) on first use; throws with the script's reason when it cannot run.</summary>
    public static CephS3Server Shared => Instance.Value;

    public Uri Endpoint { get; }

    public string AccessKey { get; }

    public string SecretKey { get; }

    private static CephS3Server Acquire()
    {
        Prerequisites.Require(needsRoot: true, Tools);
        var pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var result = new ToolRunner().TryRunAsync(["bash", ScriptPath, "acquire", pid]).GetAwaiter().GetResult();
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"the S3 test server did not start (scripts/lib/s3-ceph.sh acquire, exit {result.ExitCode}): {result.StandardErrorTail.Trim()}");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            new ToolRunner().TryRunAsync(["bash", ScriptPath, "release", pid]).GetAwaiter().GetResult();

        var fields = result.StandardOutput.Trim().Split(' ')
            .Select(f => f.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);
        return new CephS3Server(new Uri(fields["endpoint"]), fields["access"], fields["secret"]);
    }
}
