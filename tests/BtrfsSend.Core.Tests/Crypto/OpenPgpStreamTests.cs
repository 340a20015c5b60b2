using System.Text;
using BtrfsSend.Core.Crypto;

namespace BtrfsSend.Core.Tests.Crypto;

public class OpenPgpStreamTests
{
    private static readonly EncryptionKeys Encrypt = EncryptionKeys.FromPassphrase(CryptoTestData.Passphrase);
    private static readonly DecryptionKeys Decrypt = DecryptionKeys.FromPassphrase(CryptoTestData.Passphrase);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(505)]
    [InlineData(506)]
    [InlineData(507)]
    [InlineData(8191)]
    [InlineData(8192)]
    [InlineData(8193)]
    [InlineData(100_000)]
    public async Task Round_trip_preserves_every_size_across_partial_chunk_boundaries(int size)
    {
        var plaintext = CryptoTestData.Mixed(size);
        var ciphertext = await CryptoTestData.EncryptAsync(plaintext, Encrypt);
        Assert.Equal(plaintext, CryptoTestData.Decrypt(ciphertext, Decrypt));
    }

    [Fact]
    public async Task Output_starts_with_a_v4_AES256_SHA256_iterated_S2K_session_packet_and_an_MDC_data_packet()
    {
        var ciphertext = await CryptoTestData.EncryptAsync([1, 2, 3], Encrypt, s2kCount: 0xFF);
        Assert.Equal(new byte[] { 0xC3, 13, 4, 9, 3, 8 }, ciphertext[..6]);
        Assert.Equal(0xFF, ciphertext[14]);
        Assert.Equal(new byte[] { 0xD2 }, ciphertext[15..16]);
        Assert.Equal(1, ciphertext[17]);
    }

    [Fact]
    public async Task Disposing_without_finishing_leaves_a_stream_that_reads_as_truncated()
    {
        foreach (var size in new[] { 0, 100, 5000 })
        {
            using var output = new MemoryStream();
            await using (var stream = await OpenPgpEncryption.CreateAsync(output, Encrypt, 0, 9))
            {
                stream.Write(CryptoTestData.Mixed(size));
            }

            var failure = CryptoTestData.FailureOf(output.ToArray(), Decrypt, []);
            Assert.Equal(OpenPgpFailure.Truncated, failure);
        }
    }

    [Fact]
    public async Task Wrong_passphrase_is_detected_when_opening_before_any_plaintext()
    {
        var ciphertext = await CryptoTestData.EncryptAsync(CryptoTestData.Mixed(3000), Encrypt);
        using var input = new MemoryStream(ciphertext);
        var ex = Assert.Throws<OpenPgpException>(() => OpenPgpDecryption.Open(input, DecryptionKeys.FromPassphrase("wrong"u8.ToArray())));
        Assert.Equal(OpenPgpFailure.WrongPassphrase, ex.Failure);
        Assert.Contains("wrong passphrase", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_single_bit_flip_is_detected_and_none_yields_plaintext()
    {
        // 600 bytes: past the first 512-byte partial chunk, so partial-length headers get flipped too.
        var plaintext = CryptoTestData.Mixed(600);
        var ciphertext = await CryptoTestData.EncryptAsync(plaintext, Encrypt);
        var seen = new Dictionary<OpenPgpFailure, int>();
        for (var bit = 0; bit < ciphertext.Length * 8; bit++)
        {
            var flipped = (byte[])ciphertext.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            var failure = CryptoTestData.FailureOf(flipped, Decrypt, plaintext);
            Assert.True(failure is not null, $"flipping bit {bit} (byte {bit / 8}) was not detected");
            seen[failure.Value] = seen.GetValueOrDefault(failure.Value) + 1;
        }

        // The session packet and the CFB prefix's check bytes give "wrong passphrase"; the body gives "tampered".
        Assert.True(seen.GetValueOrDefault(OpenPgpFailure.WrongPassphrase) >= 8 * 8, $"wrong-passphrase flips: {seen.GetValueOrDefault(OpenPgpFailure.WrongPassphrase)}");
        Assert.True(seen.GetValueOrDefault(OpenPgpFailure.Tampered) >= 600 * 8, $"tampered flips: {seen.GetValueOrDefault(OpenPgpFailure.Tampered)}");
    }

    [Fact]
    public async Task Truncation_at_every_offset_is_detected_as_truncated()
    {
        var plaintext = CryptoTestData.Mixed(1300);
        var ciphertext = await CryptoTestData.EncryptAsync(plaintext, Encrypt);
        for (var length = 0; length < ciphertext.Length; length++)
        {
            var failure = CryptoTestData.FailureOf(ciphertext[..length], Decrypt, plaintext);
            Assert.True(failure == OpenPgpFailure.Truncated, $"cut at {length} of {ciphertext.Length}: {failure?.ToString() ?? "success"}");
        }
    }

    [Fact]
    public async Task Trailing_bytes_after_the_message_are_refused()
    {
        var ciphertext = await CryptoTestData.EncryptAsync([42], Encrypt);
        Assert.Equal(OpenPgpFailure.Malformed, CryptoTestData.FailureOf([.. ciphertext, 0], Decrypt, [42]));
    }

    [Fact]
    public async Task Plaintext_released_before_a_failed_MDC_never_ends_as_success()
    {
        var plaintext = CryptoTestData.Mixed(1_000_000);
        var ciphertext = await CryptoTestData.EncryptAsync(plaintext, Encrypt);
        ciphertext[^5] ^= 0x10;
        using var input = new MemoryStream(ciphertext);
        using var stream = OpenPgpDecryption.Open(input, Decrypt);
        var buffer = new byte[4096];
        var released = 0;
        var ex = Assert.Throws<OpenPgpException>(() =>
        {
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                released += n;
            }
        });
        Assert.Equal(OpenPgpFailure.Tampered, ex.Failure);
        Assert.True(released > 0);
        Assert.False(stream.IsVerified);
        Assert.Same(ex, Assert.Throws<OpenPgpException>(() => stream.Read(buffer)));
    }

    [Fact]
    public async Task A_passphrase_stream_asked_to_open_with_a_secret_key_file_says_wrong_key()
    {
        var ciphertext = await CryptoTestData.EncryptAsync([1], Encrypt);
        var ex = Assert.Throws<OpenPgpException>(() => OpenPgpDecryption.Open(new MemoryStream(ciphertext), DecryptionKeys.FromSecretKeys([])));
        Assert.Equal(OpenPgpFailure.WrongKey, ex.Failure);
    }

    [Fact]
    public void AEAD_and_unprotected_data_packets_are_refused_as_unsupported()
    {
        byte[] aead = [0xC3, 13, 4, 9, 3, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0xD4, 3, 1, 9, 2];
        byte[] noMdc = [0xC3, 13, 4, 9, 3, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0xC9, 3, 1, 9, 2];
        Assert.Equal(OpenPgpFailure.Unsupported, CryptoTestData.FailureOf(aead, Decrypt, []));
        Assert.Equal(OpenPgpFailure.Unsupported, CryptoTestData.FailureOf(noMdc, Decrypt, []));
    }

    [Fact]
    public void Failure_messages_name_the_failure_plainly()
    {
        var messages = Enum.GetValues<OpenPgpFailure>()
            .Select(f => new OpenPgpException(f, "detail").Message)
            .ToArray();
        Snapshooter.Xunit.Snapshot.Match(messages);
    }

    [Fact]
    public void Garbage_input_is_not_an_OpenPGP_message()
    {
        Assert.Equal(OpenPgpFailure.Malformed, CryptoTestData.FailureOf(Encoding.ASCII.GetBytes("hello world"), Decrypt, []));
    }
}
