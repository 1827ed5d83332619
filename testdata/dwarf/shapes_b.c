/* Second compilation unit of shapes.o: completes `struct fwd`, declared only in shapes_a.c. */
struct fwd { char pad[3]; short x; union { int i; float f; } u; };   /* x@4, u@8 (u.f @8), size 12 */
struct fwd f;
