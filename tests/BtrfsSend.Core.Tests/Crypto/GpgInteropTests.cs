using System.Security.Cryptography;
using BtrfsSend.Core.Crypto;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.Core.Tests.Crypto;

/// <summary>Interop with the real gpg 2.2 both ways: what we write, gpg reads; what gpg writes, we read.</summary>
public class GpgInteropTests
{
    [RealTheory("gpg", "gpgconf", NeedsRoot = false)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(8191)]
    [InlineData(8192)]
    [InlineData(8193)]
    [InlineData((1 << 20) + 1)]
    public async Task Symmetric_streams_interoperate_with_gpg_both_ways(int size)
    {
        using var gpg = new GpgFixture();
        var plaintext = CryptoTestData.Mixed(size, seed: size);

        // Ours -> gpg, with production settings (S2K count 0xFF, 1 MiB chunks).
        var ours = gpg.DirPath + "/ours.gpg";
        await using (var file = File.Create(ours))
        {
            var stream = await OpenPgpEncryption.CreateAsync(file, EncryptionKeys.FromPassphraseFile(gpg.PassphraseFilePath));
            stream.Write(plaintext);
            await stream.FinishAsync();
        }

        Assert.Equal(plaintext, await GpgDecryptAsync(gpg, ours, gpg.GpgWithPassphrase));

        // gpg -> ours: default settings (AES-128 for --symmetric, ZLIB compression), and uncompressed AES-256.
        var keys = DecryptionKeys.FromPassphraseFile(gpg.PassphraseFilePath);
        var input = gpg.DirPath + "/plain";
        await File.WriteAllBytesAsync(input, plaintext);
        foreach (var (name, options) in new[] { ("default", Array.Empty<string>()), ("none", ["--cipher-algo", "AES256", "--compress-algo", "none"]), ("bzip2", ["--compress-algo", "bzip2"]) })
        {
            var theirs = $"{gpg.DirPath}/theirs-{name}.gpg";
            // A low gpg S2K count only keeps the test quick; the format is the same.
            await Run.OutAsync(gpg.GpgWithPassphrase([.. options, "--s2k-count", "65536", "--symmetric", "--output", theirs, input]));
            Assert.Equal(plaintext, CryptoTestData.Decrypt(await File.ReadAllBytesAsync(theirs), keys));
        }
    }

    [RealTheory("gpg", "gpgconf", NeedsRoot = false)]
    [InlineData("rsa3072")]
    [InlineData("ed25519")]
    public async Task Public_key_streams_interoperate_with_gpg_both_ways(string algorithm)
    {
        using var gpg = new GpgFixture();
        using var other = new GpgFixture();
        var fingerprint = await gpg.GenerateKeyPairAsync(algorithm);
        await other.GenerateKeyPairAsync(algorithm, "other <other@example.invalid>");
        var plaintext = CryptoTestData.Mixed((1 << 20) + 1);

        // Ours -> gpg: to the armored key alone, and to the binary key plus a second recipient.
        foreach (var keys in new[]
        {
            EncryptionKeys.FromPublicKeyFile(gpg.PublicKeyArmoredFilePath!),
            EncryptionKeys.FromPublicKeyFile(other.PublicKeyArmoredFilePath!, gpg.PublicKeyBinaryFilePath!),
        })
        {
            Assert.Equal("openpgp-pubkey", keys.ManifestEncryption);
            var ours = $"{gpg.DirPath}/ours-{Guid.NewGuid():N}.gpg";
            await using (var file = File.Create(ours))
            {
                var stream = await OpenPgpEncryption.CreateAsync(file, keys);
                stream.Write(plaintext);
                await stream.FinishAsync();
            }

            Assert.Equal(plaintext, await GpgDecryptAsync(gpg, ours, gpg.Gpg));
        }

        // gpg -> ours, with gpg's default compression, decrypted with the exported secret key.
        var input = gpg.DirPath + "/plain";
        var theirs = gpg.DirPath + "/theirs.gpg";
        await File.WriteAllBytesAsync(input, plaintext);
        await Run.OutAsync(gpg.Gpg("--trust-model", "always", "--recipient", fingerprint, "--encrypt", "--output", theirs, input));
        var ciphertext = await File.ReadAllBytesAsync(theirs);
        Assert.Equal(plaintext, CryptoTestData.Decrypt(ciphertext, DecryptionKeys.FromSecretKeyFile(gpg.SecretKeyArmoredFilePath!)));

        // Someone else's secret key: wrong key, before any plaintext.
        var ex = Assert.Throws<OpenPgpException>(() => OpenPgpDecryption.Open(new MemoryStream(ciphertext), DecryptionKeys.FromSecretKeyFile(other.SecretKeyArmoredFilePath!)));
        Assert.Equal(OpenPgpFailure.WrongKey, ex.Failure);
        Assert.Contains("wrong key", ex.Message, StringComparison.Ordinal);
    }

    [RealFact("gpg", "gpgconf", NeedsRoot = false)]
    public async Task Streams_of_256_MiB_pass_through_pipes_to_and_from_gpg_unchanged()
    {
        const long total = 256L << 20;
        using var gpg = new GpgFixture();
        var encryptKeys = EncryptionKeys.FromPassphraseFile(gpg.PassphraseFilePath);

        // Ours | gpg --decrypt
        using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var received = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var decrypt = gpg.GpgWithPassphrase("--decrypt");
        await Cli.Wrap(decrypt[0]).WithArguments(decrypt[1..])
            .WithStandardInputPipe(PipeSource.Create(async (stdin, ct) =>
            {
                var stream = await OpenPgpEncryption.CreateAsync(stdin, encryptKeys, ct);
                await Task.Run(() => Generate(total, sent, stream.Write), ct);
                await stream.FinishAsync(ct);
            }))
            .WithStandardOutputPipe(PipeTarget.Create((stdout, ct) => Task.Run(() => Drain(stdout, received), ct)))
            .ExecuteAsync();
        Assert.Equal(sent.GetHashAndReset(), received.GetHashAndReset());

        // gpg --symmetric | ours
        var encrypt = gpg.GpgWithPassphrase("--symmetric", "--cipher-algo", "AES256", "--compress-algo", "none");
        var decryptKeys = DecryptionKeys.FromPassphraseFile(gpg.PassphraseFilePath);
        var isVerified = false;
        await Cli.Wrap(encrypt[0]).WithArguments(encrypt[1..])
            .WithStandardInputPipe(PipeSource.Create((stdin, ct) => Task.Run(() => Generate(total, sent, stdin.Write), ct)))
            .WithStandardOutputPipe(PipeTarget.Create((stdout, ct) => Task.Run(
                () =>
                {
                    using var plaintext = OpenPgpDecryption.Open(stdout, decryptKeys);
                    Drain(plaintext, received);
                    isVerified = plaintext.IsVerified;
                },
                ct)))
            .ExecuteAsync();
        Assert.True(isVerified);
        Assert.Equal(sent.GetHashAndReset(), received.GetHashAndReset());
    }

    private static async Task<byte[]> GpgDecryptAsync(GpgFixture gpg, string ciphertextPath, Func<string[], string[]> argv)
    {
        var output = $"{ciphertextPath}.out";
        await Run.OutAsync(argv(["--decrypt", "--output", output, ciphertextPath]));
        return await File.ReadAllBytesAsync(output);
    }

    private static void Generate(long total, IncrementalHash hash, Action<byte[], int, int> write)
    {
        var buffer = new byte[1 << 20];
        for (long offset = 0; offset < total; offset += buffer.Length)
        {
            CryptoTestData.FillMixed(buffer, 7, offset);
            hash.AppendData(buffer);
            write(buffer, 0, buffer.Length);
        }
    }

    private static void Drain(Stream source, IncrementalHash hash)
    {
        var buffer = new byte[1 << 20];
        int n;
        while ((n = source.Read(buffer)) > 0)
        {
            hash.AppendData(buffer.AsSpan(0, n));
        }
    }
}
