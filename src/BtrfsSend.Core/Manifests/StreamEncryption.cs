namespace BtrfsSend.Core.Manifests;

/// <summary>How a stored stream is encrypted (manifest key <c>encryption</c>).</summary>
public enum StreamEncryption
{
    /// <summary><c>openpgp-symmetric</c>: gpg --symmetric with a passphrase.</summary>
    OpenPgpSymmetric,

    /// <summary><c>openpgp-pubkey</c>: encrypted to an OpenPGP public key.</summary>
    OpenPgpPubkey,

    /// <summary><c>none</c>: plaintext (remote-btrfs mode only).</summary>
    None,
}
