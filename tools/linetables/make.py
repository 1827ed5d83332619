"""Regenerate testdata/linetables/: CPython's own line numbers for known code objects.

    python3 tools/linetables/make.py                        # pyenv 3.8 .. 3.13
    python3 tools/linetables/make.py --chroot tools/out/chroot-3.14:/usr/bin/python3.14
    python3 tools/linetables/make.py --chroot tools/out/chroot-3.15:/usr/bin/python3.15
    python3 tools/linetables/make.py PYTHON...              # any interpreters

Each interpreter runs dump.py (fed on stdin, so a chroot needs nothing copied
in) and its output is written to testdata/linetables/py3X.json, one code object
per line. The expected values in those files are CPython's answers
(PyCode_Addr2Line, co_lines, co_positions); heapscope's linetable unit tests
decode the raw tables recorded beside them and must agree. Standard library only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYENV = os.path.join(os.environ.get('PYENV_ROOT') or os.path.expanduser('~/.pyenv'), 'versions')
DEFAULT = ['3.8.18', '3.9.18', '3.10.13', '3.11.7', '3.12.1', '3.13.0']
ENV = {'PYTHONHASHSEED': '0', 'PATH': '/usr/bin:/bin', 'LC_ALL': 'C.UTF-8'}


def run(cmd):
    with open(os.path.join(HERE, 'dump.py'), 'rb') as f:
        out = subprocess.run(cmd + ['-'], stdin=f, stdout=subprocess.PIPE, env=ENV, check=True, timeout=300)
    return json.loads(out.stdout)


def write(data, out_dir):
    major, minor = data['version'].split('.')[:2]
    path = os.path.join(out_dir, 'py%s%s.json' % (major, minor))
    codes = data.pop('codes')
    head = json.dumps(data, separators=(',', ':'))[:-1]
    with open(path, 'w') as f:
        f.write(head + ',"codes":[\n')
        f.write(',\n'.join(json.dumps(c, separators=(',', ':')) for c in codes))
        f.write('\n]}\n')
    print('%s: %s, %d code objects' % (os.path.relpath(path, REPO), data['version'], len(codes)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('pythons', nargs='*', help='interpreters to run (default: pyenv %s)' % ', '.join(DEFAULT))
    ap.add_argument('--chroot', action='append', default=[], metavar='ROOT:PYTHON',
                    help='run PYTHON (a path inside ROOT) under chroot ROOT; repeatable')
    ap.add_argument('--out', default=os.path.join(REPO, 'testdata', 'linetables'))
    args = ap.parse_args()
    cmds = [[p] for p in args.pythons]
    if not args.pythons and not args.chroot:
        cmds = [[os.path.join(PYENV, v, 'bin', 'python' + v.rsplit('.', 1)[0])] for v in DEFAULT]
    for spec in args.chroot:
        root, py = spec.split(':', 1)
        cmds.append([shutil.which('chroot') or '/usr/sbin/chroot', root, py])
    os.makedirs(args.out, exist_ok=True)
    for cmd in cmds:
        write(run(cmd), args.out)


if __name__ == '__main__':
    sys.exit(main())
