#!/usr/bin/env python3
"""Edit a table checkpoint (docs/FORMAT.md 4.1) the way damage or an older
pvdev would, for load_cache.sh and bake_rev.sh:

  ckpt_edit.py FILE damage COL ROW   flip one bit of row ROW of column COL
                                     (0-based, schema order): a number's
                                     lowest byte, a string's first byte
  ckpt_edit.py FILE version N        set the version to N and re-checksum
                                     the header (a checkpoint that is
                                     whole, of another version)
  ckpt_edit.py FILE stale DIR        print the chunk records whose stat
                                     hint (mtime, inode) is not the live
                                     stat of DIR/NNNNNNNN.jsonl (their
                                     bytes are hashed at open), one
                                     number a line
"""
import ctypes
import os
import struct
import sys

HEADER = 64
CHUNK_REC = 48
COLUMN_REC = 32


def column(b, col):
    ncols, nrows, nchunks = struct.unpack_from("<IQQ", b, 12)
    if col >= ncols or nrows == 0:
        sys.exit("ckpt_edit: no column %d (or no rows)" % col)
    rec = HEADER + nchunks * CHUNK_REC + col * COLUMN_REC
    typ, _flags, _nulls, data, nbytes = struct.unpack_from("<IIQQQ", b, rec)
    return typ, nrows, data, nbytes


def damage(b, col, row):
    typ, nrows, data, _nbytes = column(b, col)
    if row >= nrows:
        sys.exit("ckpt_edit: row %d past %d rows" % (row, nrows))
    if typ in (3, 4):  # PV_TEXT, PV_BLOB: offsets, then the string bytes
        lo, hi = struct.unpack_from("<QQ", b, data + 8 * row)
        if hi == lo:
            sys.exit("ckpt_edit: row %d of column %d is an empty string" % (row, col))
        at = data + 8 * (nrows + 1) + lo
    else:
        at = data + 8 * row
    b[at] ^= 0x01


def set_version(b, version):
    xxh = ctypes.CDLL("libxxhash.so.0")
    xxh.XXH3_64bits.restype = ctypes.c_uint64
    xxh.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    struct.pack_into("<I", b, 8, version)
    struct.pack_into("<Q", b, 56, xxh.XXH3_64bits(bytes(b[:56]), 56))


def stale(b, tables_dir):
    nchunks = struct.unpack_from("<Q", b, 24)[0]
    for i in range(nchunks):
        num, flags, _size, mtime, ino = struct.unpack_from("<IIQqQ", b, HEADER + i * CHUNK_REC)
        if flags & 1:  # a git blob id, no stat
            continue
        st = os.stat(os.path.join(tables_dir, "%08d.jsonl" % num))
        if (st.st_mtime_ns, st.st_ino) != (mtime, ino):
            print(num)


def main():
    path, what = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        b = bytearray(f.read())
    if what == "damage":
        damage(b, int(sys.argv[3]), int(sys.argv[4]))
    elif what == "version":
        set_version(b, int(sys.argv[3]))
    elif what == "stale":
        stale(b, sys.argv[3])
        return
    else:
        sys.exit(__doc__)
    with open(path, "wb") as f:
        f.write(b)


main()
