/* Known struct shapes for the unit tests of crates/cpython/src/dwarf.rs.
 * Built into shapes.o by tools/layoutgen/make-dwarf-fixture.sh; the expected offsets are in the tests. */
#include <stdint.h>

typedef struct _inner { int a; long b; } Inner;               /* a@0 b@8, size 16 */

struct state {                                                 /* size 40 */
    int flag;                                                  /* @0 */
    Inner inner;                                               /* @8; inner.b @16 */
    struct { void *head; void *main; } threads;                /* threads.head @24, threads.main @32 */
};

typedef struct _obj {                                          /* size 16 */
    union { long refcnt; uint32_t split[2]; };                 /* anonymous union: refcnt @0 */
    void *type;                                                /* @8 */
} Obj;

typedef struct {                                               /* anonymous struct behind a typedef, size 48 */
    Obj base;                                                  /* @0; base.type @8 */
    struct { uint32_t tag; uint32_t digits[1]; } value;        /* value.tag @16, value.digits @20 */
    unsigned int small : 3, more : 5;                          /* bitfields in the word @24 */
    const volatile Inner cv;                                   /* @32, through qualifiers; cv.b @40 */
} Long;

typedef Long LongAlias;                                        /* a typedef of a typedef */
typedef struct fwd Fwd;                                        /* only declared in this unit */

struct holder { Fwd *ptr; struct fwd *again; };

struct state s;
Long l;
LongAlias la;
struct holder h;
