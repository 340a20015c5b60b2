namespace BtrfsSend.IntegrationTests.Fidelity;

/// <summary>
/// The hard sample tree (bash, run as root with the tree's directory as $1) and the three
/// changes made before each incremental. Everything a root filesystem can hold that btrfs send
/// carries: hostile names, a deep and a long path, every file type, xattrs of every namespace,
/// ACLs, special modes, odd owners, hard-link groups, a large sparse file, reflinks, compressible
/// data (the source is mounted compress=zstd).
/// </summary>
internal static class HardTree
{
    /// <summary>Bytes of the long path inside the snapshot (hard/long/ + 15 × 250-byte directories + a 255-byte name).</summary>
    public const int LongPathBytes = 4030;

    public const string Build = """
        set -e
        cd "$1"
        mkdir hard && cd hard
        # Hostile names: newline, tab, spaces, shell metacharacters, leading dash, invalid UTF-8, 255 bytes.
        for n in "$(printf 'new\nline')" "$(printf 'tab\there')" ' lead and trail ' 'meta;$(x)`y`&|<>*?[]{}!#~"'"'" \
                 -leading-dash "$(printf 'inv\377\376utf8')" "$(printf 'L%.0s' $(seq 255))"; do
          printf '%s\n' "$n" > "./$n"
        done
        # 120 directory levels.
        p=deep; for i in $(seq 120); do p=$p/d; done; mkdir -p "$p"; echo bottom > "$p/f"
        # A ~4,000-byte path, built by cd (longer than PATH_MAX once a mount point is in front).
        ( mkdir long && cd long
          for i in $(seq 15); do c=$(printf '%-250s' "c$i" | tr ' ' x); mkdir "$c"; cd "$c"; done
          echo end > "$(printf 'e%.0s' $(seq 255))" )
        # Every file type.
        mkfifo fifo
        python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")'
        mknod chr c 1 7
        mknod blk b 7 99
        # xattrs of every namespace on a file, a directory and a symlink (user.* is not allowed on symlinks).
        echo x > xf; mkdir xd; ln -s xf xl; mkdir gone
        for t in xf xd; do
          setfattr -n user.a -v "u $t" $t; setfattr -n trusted.b -v 0x00ff01 $t; setfattr -n security.label -v "s $t" $t
        done
        setfattr -h -n trusted.b -v link xl; setfattr -h -n security.label -v link xl
        echo cap > cap; chown 1000:1000 cap; setcap cap_net_bind_service+ep cap
        # POSIX ACLs: access and default.
        setfacl -m u:1234:rw,g:5678:r xf
        setfacl -m u:4321:rx xd; setfacl -d -m u:1234:rwx,g::r-x xd
        mkdir acld; setfacl -d -m u:99:rx acld; setfacl -m u:98:r acld
        # setuid, setgid, sticky.
        echo s > suid; chmod 4755 suid; echo g > sgid; chmod 2755 sgid
        mkdir sticky; chmod 1777 sticky; mkdir sgiddir; chmod 2775 sgiddir
        # Odd owners, also on a symlink and a device.
        echo o > nobody; chown 65534:65534 nobody
        echo o > big-ids; chown 4000000000:3000000000 big-ids
        chown -h 77:88 xl; chown 5:6 chr
        # Hard-link groups (one across directories, one with a hostile name).
        echo h > h1; ln h1 h2; ln h1 "$(printf 'h\nnl')"; mkdir hl; ln h1 hl/h3
        echo k > k1; ln k1 k2
        # A large sparse file.
        truncate -s 1G sparse
        head -c 1M /dev/urandom | dd of=sparse bs=1M seek=100 conv=notrunc status=none
        head -c 4096 /dev/urandom | dd of=sparse bs=4096 seek=230000 conv=notrunc status=none
        # Reflinked files.
        head -c 3M /dev/urandom > orig; cp --reflink=always orig ref1; cp --reflink=always orig ref2
        # Compressible data (the source is mounted compress=zstd).
        yes 'a compressible line of log text' | head -c 4M > text.log
        # Renames to come: a and b swap; c1 c2 c3 rotate.
        echo A > a; echo B > b; mkdir c1 c2 c3; echo 1 > c1/f; echo 2 > c2/f; echo 3 > c3/f
        mkdir flip; echo inside > flip/f
        touch -h -d @-86400.5 xl; touch -d @-1 nobody; touch -d '2400-01-01 00:00:00.123456789' big-ids
        """;

    /// <summary>Incremental 1: xattr changed and removed, ACL removed, hard link added and broken, directory replaced by a file, a swap, punch-hole, a name deleted and recreated.</summary>
    public const string Change1 = """
        set -e
        cd "$1/hard"
        setfattr -n user.a -v changed xf; setfattr -x trusted.b xd; setfattr -h -x security.label xl
        setfacl -b xf
        ln k1 k3
        cp -p h1 h1.tmp; mv h1.tmp h1
        rm -r flip; echo now-a-file > flip
        mv a tmp; mv b a; mv tmp b
        fallocate --punch-hole --offset 104857600 --length 524288 sparse
        fallocate --punch-hole --offset 1048576 --length 1048576 text.log
        rm "$(printf 'new\nline')"; printf 'recreated\n' > "$(printf 'new\nline')"
        rm -r gone
        """;

    /// <summary>Incremental 2: the file becomes a directory again, a three-way rotation, reflinks broken, modes, owners, a device node changed.</summary>
    public const string Change2 = """
        set -e
        cd "$1/hard"
        rm flip; mkdir flip; echo back > flip/f
        mv c1 tmp; mv c3 c1; mv c2 c3; mv tmp c2
        printf 'changed' | dd of=ref1 bs=1 seek=1000 conv=notrunc status=none
        chmod 0755 suid; chmod u+s sgid; chown 1:1 k2
        rm chr; mknod chr c 1 9
        setfattr -n user.new -v fresh xd
        rm "$(printf 'inv\377\376utf8')"; mkdir "$(printf 'inv\377\376utf8')"
        mv deep/d/d/d deep/d/moved
        """;

    /// <summary>Incremental 3: a default ACL removed, a hard link group dissolved, long-path and hostile names renamed, names recreated, more holes punched.</summary>
    public const string Change3 = """
        set -e
        cd "$1/hard"
        setfacl -k acld
        rm k2 k3
        mv "$(printf 'tab\there')" "$(printf 'tab\tthere')"
        mv -- -leading-dash -leading-dash-renamed
        rm sock; python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")'
        fallocate --punch-hole --offset 0 --length 8192 orig
        mv long/c1x* long/"$(printf '%-250s' r1 | tr ' ' y)"
        rm -r c3; mkdir c3; setfattr -n user.c3 -v again c3
        touch -h -d @1 xl
        """;
}
