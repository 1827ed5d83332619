#!/usr/bin/env python3
"""Packs a fuzz corpus directory into one zstd file (committed), or unpacks it for libFuzzer.

    python3 pack.py pack corpus/summary corpus/summary.zst      # after `cargo fuzz cmin summary`
    python3 pack.py unpack corpus/summary.zst corpus/summary     # before `cargo fuzz run summary`

Format, before compression: for each input, sorted by file name, its length as a little-endian u32, then its bytes.
crates/fuzzing/tests/corpus.rs reads the same format. Needs the `zstd` command.
"""
import hashlib
import os
import struct
import subprocess
import sys


def pack(src, out):
    raw = bytearray()
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if os.path.isfile(path):
            data = open(path, "rb").read()
            raw += struct.pack("<I", len(data)) + data
    packed = subprocess.run(["zstd", "-q", "-19", "-c"], input=bytes(raw), stdout=subprocess.PIPE, check=True).stdout
    with open(out, "wb") as f:
        f.write(packed)


def unpack(src, out):
    raw = subprocess.run(["zstd", "-q", "-d", "-c", src], stdout=subprocess.PIPE, check=True).stdout
    os.makedirs(out, exist_ok=True)
    pos = 0
    while pos < len(raw):
        (n,) = struct.unpack_from("<I", raw, pos)
        data = raw[pos + 4 : pos + 4 + n]
        pos += 4 + n
        with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        sys.exit(__doc__)
    (pack if sys.argv[1] == "pack" else unpack)(sys.argv[2], sys.argv[3])
