using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// AES (128/192/256) in the full-block CFB mode with a zero IV that OpenPGP uses for the
/// integrity-protected data packet (RFC 4880 5.13: no resync). Streaming: calls may split the
/// data anywhere. With AES-NI the rounds run on <see cref="X86Aes"/> (own key expansion, one
/// block per call when encrypting because CFB encryption is serial, four interleaved blocks when
/// decrypting); without it, BouncyCastle's AES engine does the block function.
/// </summary>
internal sealed class AesCfb
{
    private readonly Vector128<byte>[] _roundKeys = [];
    private readonly IBlockCipher? _fallback;
    private readonly byte[] _feedback = new byte[16];
    private readonly byte[] _keystream = new byte[16];
    private int _position = 16;

    public AesCfb(ReadOnlySpan<byte> key)
    {
        if (key.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException("AES key must be 16, 24 or 32 bytes", nameof(key));
        }

        if (X86Aes.IsSupported)
        {
            _roundKeys = ExpandKey(key);
        }
        else
        {
            _fallback = AesUtilities.CreateEngine();
            _fallback.Init(true, new KeyParameter(key));
        }
    }

    public static bool IsHardwareAccelerated => X86Aes.IsSupported;

    /// <summary>Encrypts <paramref name="source"/> into <paramref name="destination"/> (may be the same memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Encrypt(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var i = 0;
        var n = source.Length;
        while (i < n && _position < 16)
        {
            var c = (byte)(source[i] ^ _keystream[_position]);
            destination[i] = c;
            _feedback[_position++] = c;
            i++;
        }

        if (_roundKeys.Length > 0 && n - i >= 16)
        {
            var fb = Vector128.Create(_feedback);
            while (n - i >= 16)
            {
                fb = EncryptBlock(fb) ^ Vector128.Create(source.Slice(i, 16));
                fb.CopyTo(destination.Slice(i, 16));
                i += 16;
            }

            fb.CopyTo(_feedback);
        }

        while (i < n)
        {
            if (_position == 16)
            {
                RefillKeystream();
            }

            var c = (byte)(source[i] ^ _keystream[_position]);
            destination[i] = c;
            _feedback[_position++] = c;
            i++;
        }
    }

    /// <summary>Decrypts <paramref name="source"/> into <paramref name="destination"/> (may be the same memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Decrypt(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var i = 0;
        var n = source.Length;
        while (i < n && _position < 16)
        {
            var c = source[i];
            destination[i] = (byte)(c ^ _keystream[_position]);
            _feedback[_position++] = c;
            i++;
        }

        if (_roundKeys.Length > 0 && n - i >= 16)
        {
            var fb = Vector128.Create(_feedback);
            while (n - i >= 64)
            {
                var c0 = Vector128.Create(source.Slice(i, 16));
                var c1 = Vector128.Create(source.Slice(i + 16, 16));
                var c2 = Vector128.Create(source.Slice(i + 32, 16));
                var c3 = Vector128.Create(source.Slice(i + 48, 16));
                EncryptFour(ref fb, ref c0, ref c1, ref c2, out var k0, out var k1, out var k2, out var k3);
                (k0 ^ c0).CopyTo(destination.Slice(i, 16));
                (k1 ^ c1).CopyTo(destination.Slice(i + 16, 16));
                (k2 ^ c2).CopyTo(destination.Slice(i + 32, 16));
                (k3 ^ c3).CopyTo(destination.Slice(i + 48, 16));
                fb = c3;
                i += 64;
            }

            while (n - i >= 16)
            {
                var c = Vector128.Create(source.Slice(i, 16));
                (EncryptBlock(fb) ^ c).CopyTo(destination.Slice(i, 16));
                fb = c;
                i += 16;
            }

            fb.CopyTo(_feedback);
        }

        while (i < n)
        {
            if (_position == 16)
            {
                RefillKeystream();
            }

            var c = source[i];
            destination[i] = (byte)(c ^ _keystream[_position]);
            _feedback[_position++] = c;
            i++;
        }
    }

    /// <summary>Encrypts one block in ECB mode (used by tests to compare with a reference AES).</summary>
    internal void EncryptBlock(ReadOnlySpan<byte> block, Span<byte> output)
    {
        if (_fallback is not null)
        {
            _fallback.ProcessBlock(block, output);
            return;
        }

        EncryptBlock(Vector128.Create(block)).CopyTo(output);
    }

    private void RefillKeystream()
    {
        EncryptBlock(_feedback, _keystream);
        _position = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector128<byte> EncryptBlock(Vector128<byte> block)
    {
        var keys = _roundKeys;
        var last = keys.Length - 1;
        var state = block ^ keys[0];
        for (var r = 1; r < last; r++)
        {
            state = X86Aes.Encrypt(state, keys[r]);
        }

        return X86Aes.EncryptLast(state, keys[last]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EncryptFour(ref Vector128<byte> b0, ref Vector128<byte> b1, ref Vector128<byte> b2, ref Vector128<byte> b3,
        out Vector128<byte> o0, out Vector128<byte> o1, out Vector128<byte> o2, out Vector128<byte> o3)
    {
        var keys = _roundKeys;
        var last = keys.Length - 1;
        var k = keys[0];
        var s0 = b0 ^ k;
        var s1 = b1 ^ k;
        var s2 = b2 ^ k;
        var s3 = b3 ^ k;
        for (var r = 1; r < last; r++)
        {
            k = keys[r];
            s0 = X86Aes.Encrypt(s0, k);
            s1 = X86Aes.Encrypt(s1, k);
            s2 = X86Aes.Encrypt(s2, k);
            s3 = X86Aes.Encrypt(s3, k);
        }

        k = keys[last];
        o0 = X86Aes.EncryptLast(s0, k);
        o1 = X86Aes.EncryptLast(s1, k);
        o2 = X86Aes.EncryptLast(s2, k);
        o3 = X86Aes.EncryptLast(s3, k);
    }

    /// <summary>FIPS-197 key expansion; SubWord comes from AESKEYGENASSIST so no S-box table is needed.</summary>
    private static Vector128<byte>[] ExpandKey(ReadOnlySpan<byte> key)
    {
        var nk = key.Length / 4;
        var rounds = nk + 6;
        var words = new uint[4 * (rounds + 1)];
        for (var i = 0; i < nk; i++)
        {
            words[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
        }

        uint rcon = 1;
        for (var i = nk; i < words.Length; i++)
        {
            var temp = words[i - 1];
            if (i % nk == 0)
            {
                temp = SubWord(uint.RotateRight(temp, 8)) ^ rcon;
                rcon = (rcon << 1) ^ ((rcon & 0x80) != 0 ? 0x11bu : 0u);
            }
            else if (nk > 6 && i % nk == 4)
            {
                temp = SubWord(temp);
            }

            words[i] = words[i - nk] ^ temp;
        }

        var result = new Vector128<byte>[rounds + 1];
        for (var r = 0; r <= rounds; r++)
        {
            result[r] = Vector128.Create(words[4 * r], words[(4 * r) + 1], words[(4 * r) + 2], words[(4 * r) + 3]).AsByte();
        }

        Array.Clear(words);
        return result;
    }

    private static uint SubWord(uint word) =>
        X86Aes.KeygenAssist(Vector128.Create(0u, word, 0u, 0u).AsByte(), 0).AsUInt32().GetElement(0);
}
