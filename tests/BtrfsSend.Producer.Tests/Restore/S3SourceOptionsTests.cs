using BtrfsSend.TestSupport;

namespace BtrfsSend.Producer.Tests.Restore;

/// <summary>
/// <c>--from s3://BUCKET/PREFIX</c> and the <c>--s3-*</c> options are checked before anything is
/// contacted: by the receiver's rules for S3_BUCKET, S3_PREFIX, S3_ENDPOINT, S3_REGION and
/// S3_CREDENTIALS_FILE, each problem in one line naming <c>--from</c>, exit 3.
/// </summary>
public sealed class S3SourceOptionsTests : IDisposable
{
    private readonly TempDir _dir = new("s3opts");

    public static TheoryData<string, string, string> BadSources => new()
    {
        { "s3://Bad_Bucket/site-a", "", "S3_BUCKET: 'Bad_Bucket' is not allowed" },
        { "s3://", "", "S3_BUCKET" },
        { "s3://backups/../etc", "", "S3_PREFIX: '../etc' has an empty, '.' or '..' segment" },
        { "s3://backups//x", "", "S3_PREFIX" },
        { "s3://backups/site-a", "ftp://example.org", "S3_ENDPOINT: 'ftp://example.org' is not allowed" },
        { "s3://backups/site-a", "http://user:pw@example.org", "S3_ENDPOINT" },
    };

    [Theory]
    [MemberData(nameof(BadSources))]
    public async Task A_bad_bucket_prefix_or_endpoint_is_a_configuration_error_naming_from(string from, string endpoint, string expected)
    {
        var credentials = Credentials(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string[] endpointArgs = endpoint.Length == 0 ? [] : ["--s3-endpoint", endpoint];

        var result = await Run.TryAsync([ProgramBinaries.Producer, "verify", "--set", "prod-srv/rootfs", "--from", from, .. endpointArgs,
            "--s3-credentials-file", credentials, "--passphrase-file", credentials]);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"--from {from}: ", result.StandardErrorTail, StringComparison.Ordinal);
        Assert.Contains(expected, result.StandardErrorTail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_credentials_file_readable_by_others_is_refused_before_the_bucket_is_contacted()
    {
        var credentials = Credentials(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var result = await Run.TryAsync(ProgramBinaries.Producer, "verify", "--set", "prod-srv/rootfs", "--from", "s3://backups/site-a",
            "--s3-endpoint", "http://127.0.0.1:9", "--s3-credentials-file", credentials, "--passphrase-file", credentials);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("S3_CREDENTIALS_FILE", result.StandardErrorTail, StringComparison.Ordinal);
        Assert.Contains("has mode 0604", result.StandardErrorTail, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", result.StandardErrorTail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relative_credentials_file_is_found_in_the_current_directory()
    {
        var credentials = Credentials(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var stderr = new System.Text.StringBuilder();

        var result = await CliWrap.Cli.Wrap(ProgramBinaries.Producer)
            .WithArguments(["verify", "--set", "prod-srv/rootfs", "--from", "s3://backups/site-a", "--s3-endpoint", "http://127.0.0.1:9",
                "--s3-credentials-file", Path.GetFileName(credentials), "--passphrase-file", credentials])
            .WithWorkingDirectory(_dir.DirPath)
            .WithValidation(CliWrap.CommandResultValidation.None)
            .WithStandardErrorPipe(CliWrap.PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"'{credentials}' has mode 0604", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_credentials_at_all_says_which_option_or_key_gives_them()
    {
        var result = await Run.TryAsync(ProgramBinaries.Producer, "verify", "--set", "prod-srv/rootfs", "--from", "s3://backups/site-a",
            "--s3-endpoint", "http://127.0.0.1:9", "--passphrase-file", Credentials(UnixFileMode.UserRead));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("S3_CREDENTIALS_FILE: is required", result.StandardErrorTail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--s3-endpoint", "http://127.0.0.1:7480")]
    [InlineData("--s3-region", "eu-central-1")]
    [InlineData("--s3-credentials-file", "/root/c")]
    public async Task An_s3_option_without_an_s3_source_is_refused(string option, string value)
    {
        var result = await Run.TryAsync(ProgramBinaries.Producer, "verify", "--set", "prod-srv/rootfs", "--from", _dir.DirPath, option, value,
            "--passphrase-file", Credentials(UnixFileMode.UserRead));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("--s3-endpoint, --s3-region and --s3-credentials-file only go with --from s3://BUCKET/PREFIX", result.StandardErrorTail, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();

    private string Credentials(UnixFileMode mode)
    {
        var path = _dir.Sub("credentials-" + ((int)mode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllText(path, "[default]\naws_access_key_id = A\naws_secret_access_key = B\n");
        File.SetUnixFileMode(path, mode);
        return path;
    }
}
