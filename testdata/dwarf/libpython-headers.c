/* The struct layouts of a libpython, from its headers alone: compiled with -g -fno-eliminate-unused-debug-types, this
 * unit's DWARF describes every type the headers declare, which is what heapscope reads from the DWARF of a libpython
 * (crates/cpython/src/layout/fields/). Built by tools/layoutgen/make-dwarf-layout-fixture.sh against CPython 3.12.1's
 * installed headers; types defined only in CPython's .c files (collections' deque, functools' partial, _io's
 * objects, …) are not in any header and so not here. */
#define Py_BUILD_CORE 1
#include "Python.h"

#include "internal/pycore_code.h"
#include "internal/pycore_context.h"
#include "internal/pycore_descrobject.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_gc.h"
#include "internal/pycore_genobject.h"
#include "internal/pycore_gil.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_long.h"
#include "internal/pycore_memoryobject.h"
#include "internal/pycore_moduleobject.h"
#include "internal/pycore_namespace.h"
#include "internal/pycore_obmalloc.h"
#include "internal/pycore_pystate.h"
#include "internal/pycore_runtime.h"
#include "internal/pycore_typeobject.h"
#include "internal/pycore_unionobject.h"
