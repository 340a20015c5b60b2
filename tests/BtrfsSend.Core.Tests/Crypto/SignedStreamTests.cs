using System.Text;
using BtrfsSend.Core.Binding;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.Core.Tests.Crypto;

/// <summary>
/// Bound and signed streams: the binding in the literal packet, the producer's Ed25519 signature
/// (one-pass, literal, signature) checked by our decryptor and by real gpg 2.2, with and without
/// the signer's public key (docs/stream-format.md documents exactly what gpg prints and returns).
/// </summary>
public sealed class SignedStreamTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private static readonly string Binding = StreamBinding.Create(
        BackupSet.Parse("prod-srv/rootfs"), SnapshotName.Parse("prod-srv-rootfs-20260305T020500Z"), SnapshotName.Parse("prod-srv-rootfs-20260304T020500Z"),
        "aa2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", 1, StreamCompression.None).Render();

    private readonly TempDir _dir = new("signed");
    private readonly Xunit.Abstractions.ITestOutputHelper _output = output;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_signed_stream_verifies_with_its_key_and_carries_its_binding()
    {
        var (signer, verifyKey) = NewKey("a");
        var plaintext = CryptoTestData.Mixed((1 << 20) + 3);

        var ciphertext = await EncryptAsync(plaintext, Keys().WithSigner(signer), Binding);

        using var stream = OpenPgpDecryption.Open(new MemoryStream(ciphertext), DecryptionKeys.FromPassphrase(CryptoTestData.Passphrase).WithVerifyKey(verifyKey));
        Assert.Equal(Binding, stream.ReadBindingText());
        Assert.True(stream.IsSigned);
        using var output = new MemoryStream();
        stream.CopyTo(output, 4096);
        Assert.Equal(plaintext, output.ToArray());
        Assert.True(stream.IsSignatureVerified);
        Assert.True(stream.IsVerified);
    }

    [Fact]
    public async Task A_stream_signed_by_another_key_is_refused_before_any_data()
    {
        var (foreign, _) = NewKey("foreign");
        var (_, verifyKey) = NewKey("ours");
        var ciphertext = await EncryptAsync(CryptoTestData.Mixed(5000), Keys().WithSigner(foreign), Binding);

        using var stream = OpenPgpDecryption.Open(new MemoryStream(ciphertext), DecryptionKeys.FromPassphrase(CryptoTestData.Passphrase).WithVerifyKey(verifyKey));
        var ex = Assert.Throws<OpenPgpException>(() => stream.ReadBindingText());

        Assert.Equal(OpenPgpFailure.BadSignature, ex.Failure);
        Assert.Contains("not by the verify key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_literal_binding_rewritten_under_a_genuine_signature_is_refused_at_the_end()
    {
        var (signer, verifyKey) = NewKey("rw");
        var rewritten = Binding.Replace("s=prod-srv/rootfs", "s=other-host/rootfs", StringComparison.Ordinal);
        var plaintext = CryptoTestData.Mixed(3000);
        using var output = new MemoryStream();
        await using (var writer = await OpenPgpEncryption.CreateAsync(output, Keys().WithSigner(signer), rewritten, 0, 9, signedBinding: Binding))
        {
            writer.Write(plaintext);
            await writer.FinishAsync();
        }

        using var stream = OpenPgpDecryption.Open(new MemoryStream(output.ToArray()), DecryptionKeys.FromPassphrase(CryptoTestData.Passphrase).WithVerifyKey(verifyKey));
        Assert.Equal(rewritten, stream.ReadBindingText());
        var ex = Assert.Throws<OpenPgpException>(() => stream.CopyTo(Stream.Null));

        Assert.Equal(OpenPgpFailure.BadSignature, ex.Failure);
        Assert.Contains("the binding in the signature differs from the binding in the literal packet", ex.Message, StringComparison.Ordinal);
        Assert.False(stream.IsVerified);
    }

    [Fact]
    public async Task An_unsigned_stream_reports_that_it_is_not_signed()
    {
        var (_, verifyKey) = NewKey("v");
        var ciphertext = await EncryptAsync(CryptoTestData.Mixed(5000), Keys(), Binding);

        using var stream = OpenPgpDecryption.Open(new MemoryStream(ciphertext), DecryptionKeys.FromPassphrase(CryptoTestData.Passphrase).WithVerifyKey(verifyKey));
        Assert.Equal(Binding, stream.ReadBindingText());
        stream.CopyTo(Stream.Null);

        Assert.False(stream.IsSigned);
        Assert.False(stream.IsSignatureVerified);
    }

    [Fact]
    public async Task Every_single_byte_change_of_a_signed_stream_is_refused()
    {
        var (signer, verifyKey) = NewKey("t");
        var plaintext = CryptoTestData.Mixed(700);
        var ciphertext = await EncryptAsync(plaintext, Keys().WithSigner(signer), Binding);
        var keys = DecryptionKeys.FromPassphrase(CryptoTestData.Passphrase).WithVerifyKey(verifyKey);

        for (var i = 0; i < ciphertext.Length; i += 7)
        {
            var copy = (byte[])ciphertext.Clone();
            copy[i] ^= 0x01;
            Assert.NotNull(CryptoTestData.FailureOf(copy, keys, plaintext));
        }
    }

    [RealFact("gpg", "gpgconf", NeedsRoot = false)]
    public async Task Gpg_decrypts_a_signed_stream_and_says_whether_it_can_check_the_signature()
    {
        using var gpg = new GpgFixture();
        var keyPath = Path.Combine(_dir.DirPath, "gpg-signing.key");
        var (secret, publicKey, fingerprint) = SigningKey.Generate("btrfs-send-backup stream signing key (test)", DateTime.UtcNow);
        await File.WriteAllTextAsync(keyPath, secret);
        await File.WriteAllTextAsync(keyPath + ".pub", publicKey);
        var plaintext = CryptoTestData.Mixed((1 << 20) + 1);
        var file = Path.Combine(_dir.DirPath, "stream.gpg");
        await File.WriteAllBytesAsync(file, await EncryptAsync(plaintext, EncryptionKeys.FromPassphraseFile(gpg.PassphraseFilePath).WithSigner(SigningKey.FromFile(keyPath)), Binding, production: true));

        // Without the signer's public key: the data is all on stdout, and gpg exits 2.
        var without = await GpgDecryptAsync(gpg, file);
        Assert.Equal(plaintext, without.Stdout);
        Assert.Equal(2, without.ExitCode);
        Assert.Contains("gpg: Can't check signature: No public key", without.Stderr, StringComparison.Ordinal);

        // With it imported: exit 0 and a good signature.
        await Run.OutAsync(gpg.Gpg("--import", keyPath + ".pub"));
        var with = await GpgDecryptAsync(gpg, file);
        Assert.Equal(plaintext, with.Stdout);
        Assert.True(with.ExitCode == 0, with.Stderr);
        Assert.Contains("gpg: Good signature from \"btrfs-send-backup stream signing key (test)\"", with.Stderr, StringComparison.Ordinal);
        Assert.Contains("gpg: WARNING: This key is not certified with a trusted signature!", with.Stderr, StringComparison.Ordinal);
        Assert.Contains($"gpg:                using EDDSA key {fingerprint}", with.Stderr, StringComparison.Ordinal);
        Assert.Contains($"gpg:                using EDDSA key {fingerprint}", without.Stderr, StringComparison.Ordinal);
    }

    private static EncryptionKeys Keys() => EncryptionKeys.FromPassphrase(CryptoTestData.Passphrase);

    private (SigningKey Signer, VerifyKey Verify) NewKey(string name)
    {
        var path = Path.Combine(_dir.DirPath, name + ".key");
        var (secret, publicKey, _) = SigningKey.Generate($"test {name}", DateTime.UtcNow);
        File.WriteAllText(path, secret);
        File.WriteAllText(path + ".pub", publicKey);
        return (SigningKey.FromFile(path), VerifyKey.FromFile(path + ".pub"));
    }

    private static async Task<byte[]> EncryptAsync(byte[] plaintext, EncryptionKeys keys, string binding, bool production = false)
    {
        using var output = new MemoryStream();
        await using (var stream = production
            ? await OpenPgpEncryption.CreateAsync(output, keys, binding)
            : await OpenPgpEncryption.CreateAsync(output, keys, binding, 0, 9))
        {
            for (var i = 0; i < plaintext.Length; i += 777)
            {
                stream.Write(plaintext.AsSpan(i, Math.Min(777, plaintext.Length - i)));
            }

            await stream.FinishAsync();
        }

        return output.ToArray();
    }

    /// <summary>Exactly the command <c>restore --dry-run</c> prints (no --quiet), in the fixture's home.</summary>
    private async Task<(int ExitCode, byte[] Stdout, string Stderr)> GpgDecryptAsync(GpgFixture gpg, string file)
    {
        string[] argv = ["gpg", "--homedir", gpg.HomeDirPath, "--batch", "--pinentry-mode", "loopback", "--passphrase-file", gpg.PassphraseFilePath, "--decrypt", file];
        using var stdout = new MemoryStream();
        var stderr = new StringBuilder();
        var result = await Cli.Wrap(argv[0]).WithArguments(argv[1..]).WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStream(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();
        _output.WriteLine($"exit {result.ExitCode}; stderr:\n{stderr}");
        return (result.ExitCode, stdout.ToArray(), stderr.ToString());
    }
}
