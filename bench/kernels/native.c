/* Native (host compiler, -O2) entry points of the compute kernels: the reference the BPF engines are measured
 * against. A separate translation unit, called through a function pointer with a seed the caller reads from a
 * volatile, so the compiler cannot fold a kernel to a constant. */
#include "compute_kernels.h"

#define XB_NATIVE(NAME) \
    xb_u32 xbpf_bench_native_##NAME(xb_u32 seed) { return NAME##_kernel(seed); }

XBPF_COMPUTE_KERNELS(XB_NATIVE)
