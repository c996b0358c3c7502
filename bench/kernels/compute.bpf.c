/* BPF entry points of the compute kernels, compiled with `clang -O2 -target bpf -mcpu=v3`.
 *
 * Each kernel NAME gets two sections, each a complete program on its own (no maps, globals, helpers, calls):
 *  - "xdp/NAME": for the Linux kernel (BPF_PROG_TEST_RUN); the seed is the packet's first 4 bytes;
 *  - "raw/NAME": for xbpf's raw-memory convention (r1 = memory, r2 = its size); the seed is its first 4 bytes.
 * The build extracts every section's bytes and rejects the object if it has relocations or data sections.
 * No system headers: only the two fields of struct xdp_md read here (include/uapi/linux/bpf.h).
 */
#include "compute_kernels.h"

struct xdp_md {
    xb_u32 data;
    xb_u32 data_end;
};

#define XB_ENTRY(NAME)                                                                       \
    __attribute__((section("xdp/" #NAME), used)) int NAME##_xdp(struct xdp_md* ctx) {       \
        const xb_u8* data = (const xb_u8*)(unsigned long)ctx->data;                         \
        const xb_u8* end = (const xb_u8*)(unsigned long)ctx->data_end;                      \
        if (data + 4 > end) return 0;                                                       \
        return (int)NAME##_kernel(*(const xb_u32*)data);                                    \
    }                                                                                        \
    __attribute__((section("raw/" #NAME), used)) xb_u32 NAME##_raw(const xb_u32* mem) {     \
        return NAME##_kernel(mem[0]);                                                       \
    }

XBPF_COMPUTE_KERNELS(XB_ENTRY)
