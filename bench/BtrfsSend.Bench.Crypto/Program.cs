using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;

// Benchmark driver for scripts/bench-crypto.sh: stdin -> stdout, 1 MiB synchronous copies,
// the way the producer's pipeline stage runs.
//   encrypt --passphrase-file F    |   decrypt --passphrase-file F
if (args.Length != 3 || args[1] != "--passphrase-file" || args[0] is not ("encrypt" or "decrypt"))
{
    await Console.Error.WriteLineAsync("usage: BtrfsSend.Bench.Crypto encrypt|decrypt --passphrase-file FILE  (stdin -> stdout)");
    return 2;
}

using var stdin = Console.OpenStandardInput();
using var stdout = Console.OpenStandardOutput();
var buffer = new byte[1 << 20];
try
{
    if (args[0] == "encrypt")
    {
        await using var encryptor = await OpenPgpEncryption.CreateAsync(stdout, EncryptionKeys.FromPassphraseFile(args[2]));
        int n;
        while ((n = stdin.Read(buffer)) > 0)
        {
            encryptor.Write(buffer, 0, n);
        }

        await encryptor.FinishAsync();
    }
    else
    {
        using var decryptor = OpenPgpDecryption.Open(stdin, DecryptionKeys.FromPassphraseFile(args[2]));
        int n;
        while ((n = decryptor.Read(buffer)) > 0)
        {
            stdout.Write(buffer, 0, n);
        }
    }

    return 0;
}
catch (BtrfsSendException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return (int)ex.ExitCode;
}
