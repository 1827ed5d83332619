#!/bin/sh
# Rebuilds testdata/dwarf/libpython3.12-headers.debug: a separate debug file (ET_DYN, code sections NOBITS, zlib
# SHF_COMPRESSED debug sections) whose DWARF describes the structs of CPython 3.12.1's installed headers and whose GNU
# build-id is that of the libpython3.12.so.1.0 the testdata/py312 process ran, so that heapscope accepts it as that
# libpython's debug info when it sits at DIR/usr/lib/debug/.build-id/f9/d5c82f….debug under --sysroot DIR
# (tests/unverified.rs). Needs gcc, binutils and the pyenv build of 3.12.1 (headers only; PYTHON312 overrides where).
# Paths are mapped so that no directory of the building machine ends up in the committed file.
set -eu
cd "$(dirname "$0")/../../testdata/dwarf"
prefix=${PYTHON312:-${PYENV_ROOT:-$HOME/.pyenv}/versions/3.12.1}
build_id=f9d5c82f5f2c22df68c1d49c944ef3dee5103dcc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -g -O0 -fno-eliminate-unused-debug-types -fno-asynchronous-unwind-tables \
    -ffile-prefix-map="$prefix"=/opt/cpython/versions/3.12.1 -ffile-prefix-map="$PWD"=/src \
    -I"$prefix/include/python3.12" -c libpython-headers.c -o "$tmp/headers.o"
cc -shared -nostdlib -Wl,--build-id=0x$build_id "$tmp/headers.o" -o "$tmp/headers.so"
objcopy --only-keep-debug -R .comment --compress-debug-sections=zlib "$tmp/headers.so" libpython3.12-headers.debug
ls -l libpython3.12-headers.debug
