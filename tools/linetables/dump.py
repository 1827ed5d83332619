"""Dump CPython's own line-number answers for a set of code objects, as JSON on stdout.

Run by the interpreter under test (any CPython 3.8+; reads nothing but its own
standard library):

    python3.X dump.py > out.json            # or:  python3.X - < dump.py

For every code object of the samples below (generated source, identical for
every version, plus this interpreter's own threading.py), it records:

- `table`: the raw line table as hex — `co_lnotab` on 3.8/3.9, `co_linetable`
  on 3.10 (PEP 626) and 3.11+ (PEP 657 location table);
- `firstlineno`, `code_len` (bytes of bytecode);
- `addr2line`: what `PyCode_Addr2Line(code, offset)` — the C function behind
  `frame.f_lineno` and tracebacks — returns for every instruction offset
  (every 2 bytes), as runs `[start_offset, line]` (a run lasts until the next
  run's start, the last one until `code_len`); -1 means "no line";
- `co_lines` (3.10+, generated samples only): `code.co_lines()` as
  `[start, end, line or null]`;
- `positions` (3.11+): the start line of `code.co_positions()` per
  instruction, as runs like `addr2line` (null = no location).

heapscope's tests decode `table` and compare with these answers, so the
expected values come from CPython, not from heapscope.
"""
import ctypes
import json
import sys
import threading

ADDR2LINE = ctypes.pythonapi.PyCode_Addr2Line
ADDR2LINE.argtypes = [ctypes.py_object, ctypes.c_int]
ADDR2LINE.restype = ctypes.c_int


def runs(values):
    """[(offset, value)] per instruction -> [[offset, value]] at each change."""
    out = []
    for off, v in values:
        if not out or out[-1][1] != v:
            out.append([off, v])
    return out


def samples():
    """(name, source) pairs; the ones this version cannot compile are skipped."""
    s = []
    s.append(('basic', '''
def f(a, b):
    c = a + b
    if c > 10:
        return c
    for i in range(c):
        c += i
    return c
'''))
    s.append(('negative_deltas', '''
def g(x):
    y = f(
        x,
        x + 1,
        [x,
         x],
    )
    return (
        y
        +
        x
    )
'''))
    gap = '\n' * 300
    s.append(('big_line_gaps', 'def h():\n    a = 1' + gap + '    b = 2' + gap + '    return a + b\n'))
    far_args = ',\n'.join('        x0 + %d' % i for i in range(200))
    s.append(('big_negative', 'def k(x0=0):\n    return max(\n' + far_args + '\n    )\n'))
    s.append(('long_line', 'def m(a):\n    return [' + ', '.join('a' for _ in range(400)) + ']\n'))
    s.append(('control_flow', '''
def n(items):
    total = 0
    while items:
        item = items.pop()
        try:
            total += 1 / item
        except ZeroDivisionError:
            continue
        except (TypeError, ValueError) as e:
            raise RuntimeError(e) from None
        else:
            total -= 1
        finally:
            total *= 2
    with open(__file__) as fh, open(__file__) as gh:
        total += len(fh.read())
    return [x for x in range(total) if x % 3], {k: v for k, v in ()}, lambda q: q + 1
'''))
    s.append(('closures_and_generators', '''
def outer(a):
    b = a * 2
    def inner(c):
        nonlocal b
        b += c
        return a + b
    def gen():
        yield a
        yield from range(b)
    return inner, gen

async def co(x):
    async with x as y:
        async for z in y:
            await z
    return [w async for w in x]

class K:
    attr = 1
    def method(self):
        return super().method()
    @property
    def prop(self):
        return self.attr
'''))
    s.append(('match', '''
def mt(v):
    match v:
        case [1, *rest]:
            return rest
        case {"k": k}:
            return k
        case K(attr=a) if a > 1:
            return a
        case _:
            return None
'''))
    s.append(('except_star', '''
def es():
    try:
        raise ExceptionGroup("g", [ValueError(1)])
    except* ValueError as eg:
        return eg
'''))
    many = '\n'.join('    v%d = %d' % (i, i) for i in range(600))
    s.append(('many_statements', 'def big():\n' + many + '\n    return v0\n'))
    return s


def walk(co, prefix, out, full=True):
    name = prefix + co.co_name
    code_len = len(co.co_code)
    rec = {
        'name': name,
        'firstlineno': co.co_firstlineno,
        'code_len': code_len,
    }
    if sys.version_info >= (3, 10):
        rec['table'] = co.co_linetable.hex()
    else:
        rec['table'] = co.co_lnotab.hex()
    rec['addr2line'] = runs((off, ADDR2LINE(co, off)) for off in range(0, code_len, 2))
    if full and sys.version_info >= (3, 10):
        rec['co_lines'] = [[a, b, l] for a, b, l in co.co_lines()]
    if sys.version_info >= (3, 11):
        rec['positions'] = runs((2 * i, p[0]) for i, p in enumerate(co.co_positions()))
    out.append(rec)
    for c in co.co_consts:
        if hasattr(c, 'co_code'):
            walk(c, name + '.', out, full)


def main():
    out = []
    for name, src in samples():
        try:
            co = compile(src, name, 'exec')
        except SyntaxError:
            continue
        walk(co, name + ':', out)
    with open(threading.__file__, encoding='utf-8') as f:
        walk(compile(f.read(), 'threading.py', 'exec'), 'threading:', out, full=False)
    v = sys.version_info
    json.dump({
        'version': '%d.%d.%d' % v[:3],
        'format': 'lnotab' if v < (3, 10) else 'pep626' if v < (3, 11) else 'locations',
        'generator': 'tools/linetables/dump.py',
        'codes': out,
    }, sys.stdout, separators=(',', ':'))
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
