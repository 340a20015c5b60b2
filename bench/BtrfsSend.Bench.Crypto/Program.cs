using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;

// Benchmark driver for scripts/bench-crypto.sh: stdin -> stdout, 1 MiB synchronous copies,
// the way the producer's pipeline stage runs.
//   encrypt --passphrase-file F [--signing-key K]   |   decrypt --passphrase-file F [--verify-key K.pub]
// With a key the stream is bound and signed as in public-key mode (the signature hash is what costs).
if (args.Length is not (3 or 5) || args[1] != "--passphrase-file" || args[0] is not ("encrypt" or "decrypt")
    || (args.Length == 5 && args[3] != (args[0] == "encrypt" ? "--signing-key" : "--verify-key")))
{
    await Console.Error.WriteLineAsync("usage: BtrfsSend.Bench.Crypto encrypt|decrypt --passphrase-file FILE [--signing-key K | --verify-key K.pub]  (stdin -> stdout)");
    return 2;
}

const string Binding = "bsb1 k=f c=n v=1 u=aa2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d pu=- s=bench/set n=bench-20260101T000000Z p=-";

using var stdin = Console.OpenStandardInput();
using var stdout = Console.OpenStandardOutput();
var buffer = new byte[1 << 20];
try
{
    if (args[0] == "encrypt")
    {
        var keys = EncryptionKeys.FromPassphraseFile(args[2]);
        await using var encryptor = args.Length == 5
            ? await OpenPgpEncryption.CreateAsync(stdout, keys.WithSigner(SigningKey.FromFile(args[4])), Binding)
            : await OpenPgpEncryption.CreateAsync(stdout, keys);
        int n;
        while ((n = stdin.Read(buffer)) > 0)
        {
            encryptor.Write(buffer, 0, n);
        }

        await encryptor.FinishAsync();
    }
    else
    {
        var keys = DecryptionKeys.FromPassphraseFile(args[2]);
        using var decryptor = OpenPgpDecryption.Open(stdin, args.Length == 5 ? keys.WithVerifyKey(VerifyKey.FromFile(args[4])) : keys);
        int n;
        while ((n = decryptor.Read(buffer)) > 0)
        {
            stdout.Write(buffer, 0, n);
        }

        if (args.Length == 5 && !decryptor.IsSignatureVerified)
        {
            await Console.Error.WriteLineAsync("the signature was not verified");
            return 8;
        }
    }

    return 0;
}
catch (BtrfsSendException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return (int)ex.ExitCode;
}
