#!/bin/sh
# Rebuilds testdata/dwarf/shapes.o, the tiny object whose DWARF the unit tests of crates/cpython/src/dwarf.rs read:
# two compilation units (shapes_a.c, shapes_b.c) joined by a relocatable link, so the reader sees unrelocated
# .debug_* sections (ET_REL, RELA) and a struct declared in one unit and defined in the other.
# Paths are mapped to /src so that no directory of the building machine ends up in the committed file.
set -eu
cd "$(dirname "$0")/../../testdata/dwarf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in shapes_a shapes_b; do
    cc -g -O0 -fno-asynchronous-unwind-tables -ffile-prefix-map="$PWD"=/src -c "$f.c" -o "$tmp/$f.o"
done
ld -r "$tmp/shapes_a.o" "$tmp/shapes_b.o" -o shapes.o
objcopy -R .comment -R .note.GNU-stack shapes.o
ls -l shapes.o
# The same object with SHF_COMPRESSED (zlib) debug sections.
objcopy --compress-debug-sections=zlib shapes.o shapes-zlib.o
ls -l shapes-zlib.o
