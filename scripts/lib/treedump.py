#!/usr/bin/env python3
"""Dumps everything a restore must reproduce of a directory tree, one line per entry, sorted.

Usage: treedump.py ROOT   (as root, to read trusted.* xattrs)

Every entry below ROOT and ROOT itself (path ".") gets one line of space-separated key=value
fields, in a fixed order:
  path type mode uid gid size nlink mtime [links] [target] [rdev] [xattr.NAME ...] [flags] [sha256 data]
- path: the raw bytes of the path relative to ROOT; type: f d l p s c b;
- mode: the permission bits in octal including setuid, setgid and sticky;
- mtime: seconds.nanoseconds (may be negative);
- links: for an inode seen under more than one name in the tree, its first name (so a hard-link
  group is named by all its members, not only counted);
- target: the symlink's target bytes; rdev: major:minor of a device node;
- flags (files and directories, when any is set): the chattr flags (FS_IOC_GETFLAGS) in hex;
- xattr.NAME: every extended attribute of every namespace (user, trusted, security incl.
  security.capability, and system.posix_acl_access / system.posix_acl_default, which is how the
  kernel exposes POSIX ACLs), value as bytes;
- sha256 and data (regular files): the content hash, and the data ranges start-end as
  lseek(SEEK_DATA/SEEK_HOLE) reports them, so a hole restored as written zeros is a difference.
Paths and values are raw bytes with every byte outside 0x21-0x7e, and '\\' '=' escaped as
\\xHH, so a line holds exactly one entry whatever the names contain (newlines, invalid UTF-8).
Two trees are identical in all of this exactly when their dumps are byte-identical.
"""
import fcntl
import hashlib
import os
import stat
import struct
import sys

FS_IOC_GETFLAGS = 0x80086601  # chattr/lsattr flags (append-only, immutable, nocow, ...)


def esc(data: bytes) -> str:
    return "".join(chr(b) if 0x21 <= b <= 0x7E and b not in (0x5C, 0x3D) else "\\x%02x" % b for b in data)


def kind(mode: int) -> str:
    for test, letter in ((stat.S_ISREG, "f"), (stat.S_ISDIR, "d"), (stat.S_ISLNK, "l"), (stat.S_ISFIFO, "p"),
                         (stat.S_ISSOCK, "s"), (stat.S_ISCHR, "c"), (stat.S_ISBLK, "b")):
        if test(mode):
            return letter
    return "?"


def data_map(fd: int, size: int) -> str:
    ranges, offset = [], 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError:  # ENXIO: no data after offset
            break
        end = os.lseek(fd, start, os.SEEK_HOLE)
        ranges.append("%d-%d" % (start, end))
        offset = end
    return ",".join(ranges) or "-"


def entry_fields(name: bytes, st, rel: bytes, dir_fd: int) -> list:
    """The fields after path= of one entry; the process's cwd is the entry's directory."""
    t = kind(st.st_mode)
    fields = [
        "type=" + t, "mode=%04o" % stat.S_IMODE(st.st_mode), "uid=%d" % st.st_uid, "gid=%d" % st.st_gid,
        "size=%d" % st.st_size, "nlink=%d" % st.st_nlink, "mtime=%d.%09d" % divmod(st.st_mtime_ns, 1_000_000_000),
    ]
    if t == "l":
        fields.append("target=" + esc(os.readlink(name, dir_fd=dir_fd)))
    if t in ("c", "b"):
        fields.append("rdev=%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
    for xname in sorted(os.listxattr(name, follow_symlinks=False), key=os.fsencode):
        value = os.getxattr(name, xname, follow_symlinks=False)
        fields.append("xattr." + esc(os.fsencode(xname)) + "=" + esc(value))
    if t in ("f", "d"):
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        try:
            flags = struct.unpack("l", fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 8))[0]
        finally:
            os.close(fd)
        if flags:
            fields.append("flags=%x" % flags)
    if t == "f":
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
        try:
            digest = hashlib.sha256()
            with os.fdopen(os.dup(fd), "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            fields.append("sha256=" + digest.hexdigest())
            fields.append("data=" + data_map(fd, st.st_size))
        finally:
            os.close(fd)
    return fields


def walk(dir_fd: int, rel: bytes, out: list) -> None:
    """Appends (path, st, fields) for every entry below the directory open as dir_fd. Every call
    works relative to an open directory (fchdir, dir_fd), so paths longer than PATH_MAX and
    trees of any depth are read."""
    names = sorted(os.fsencode(n) for n in os.listdir(dir_fd))
    for name in names:
        st = os.lstat(name, dir_fd=dir_fd)
        os.fchdir(dir_fd)
        path = rel + b"/" + name if rel else name
        out.append((path, st, entry_fields(name, st, path, dir_fd)))
        if stat.S_ISDIR(st.st_mode):
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            try:
                walk(child, path, out)
            finally:
                os.close(child)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: treedump.py ROOT", file=sys.stderr)
        return 2
    sys.setrecursionlimit(100_000)
    root_fd = os.open(os.fsencode(sys.argv[1]), os.O_RDONLY | os.O_DIRECTORY)
    os.fchdir(root_fd)
    root_st = os.fstat(root_fd)
    entries = [(b".", root_st, entry_fields(b".", root_st, b".", root_fd))]
    walk(root_fd, b"", entries)
    entries.sort(key=lambda e: (e[0] != b".", e[0]))
    names_of_inode = {}
    for path, st, _ in entries:
        if not stat.S_ISDIR(st.st_mode):
            names_of_inode.setdefault((st.st_dev, st.st_ino), []).append(path)
    out = sys.stdout.buffer
    for path, st, fields in entries:
        group = names_of_inode.get((st.st_dev, st.st_ino), [])
        links = ["links=" + esc(group[0])] if len(group) > 1 else []
        line = ["path=" + esc(path)] + fields[:7] + links + fields[7:]
        out.write((" ".join(line) + "\n").encode("ascii"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
