// Loads and stores of every size through context, stack and global pointers; 64-bit address loads (lddw with a
// relocation) for globals; stack spills at negative offsets from r10.
#include "golden_common.h"

struct record {
    u8 b;
    u16 h;
    u32 w;
    u64 d;
    s8 sb;
    s16 sh;
    s32 sw;
};

struct record global_record;
u64 global_table[16];
static volatile u32 counter = 7;
const volatile u64 config_value = 42;

SEC("socket") int loads(struct record* r) {
    u64 v = r->b;
    v += r->h;
    v += r->w;
    v += r->d;
    v += (u64)(s64)r->sb;
    v += (u64)(s64)r->sh;
    v += (u64)(s64)r->sw;
    return (int)v;
}

SEC("socket") int stores(struct record* r) {
    u64 x = r->d;
    r->b = (u8)x;
    r->h = (u16)(x >> 8);
    r->w = (u32)(x >> 16);
    r->d = x * 3;
    global_record.b = 1;
    global_record.h = 2;
    global_record.w = 3;
    global_record.d = 4;
    global_table[x & 15] = x;
    counter += 1;
    return (int)config_value;
}

static NOINLINE u64 sum_stack(volatile u64* p, u32 n) {
    u64 s = 0;
    for (u32 i = 0; i < n && i < 8; i++) s += p[i];
    return s;
}

SEC("socket") int stack(u64* ctx) {
    volatile u64 buf[8];
    volatile u32 small[4];
    volatile u16 tiny[4];
    volatile u8 bytes[8];
    for (int i = 0; i < 8; i++) buf[i] = ctx[i];
    small[0] = (u32)ctx[0];
    small[3] = 0xdeadbeef;
    tiny[1] = (u16)ctx[1];
    tiny[2] = 0xffff;
    bytes[7] = (u8)ctx[2];
    bytes[0] = 0x80;
    return (int)(sum_stack(buf, (u32)ctx[3]) + small[0] + small[3] + tiny[1] + tiny[2] + bytes[7] + bytes[0]);
}

SEC("socket") int big_offsets(u8* p) {
    volatile u8 frame[480];
    frame[0] = p[0];
    frame[479] = p[32767];
    *(volatile u32*)(p + 20000) = frame[0];
    return frame[479] + frame[0] + p[-32768];
}
