// Shared definitions for the llvm-objdump golden sources: no libbpf or kernel headers, so the objects build with a
// bare clang. GOLDEN_CPU (1, 2 or 3) is set by suite.cmake to the -mcpu version the object is compiled for.
#pragma once

#ifndef GOLDEN_CPU
#define GOLDEN_CPU 3
#endif

#define SEC(name) __attribute__((section(name), used))
#define NOINLINE __attribute__((noinline))

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;

// Helper calls by id, as libbpf's bpf_helper_defs.h declares them.
static void* (*bpf_map_lookup_elem)(void* map, const void* key) = (void*)1;
static long (*bpf_map_update_elem)(void* map, const void* key, const void* value, u64 flags) = (void*)2;
static u64 (*bpf_ktime_get_ns)(void) = (void*)5;
static long (*bpf_trace_printk)(const char* fmt, u32 fmt_size, ...) = (void*)6;
static u32 (*bpf_get_prandom_u32)(void) = (void*)7;
static u64 (*bpf_get_current_pid_tgid)(void) = (void*)14;

// A BTF-style map definition, as libbpf's __uint/__type macros produce it.
#define __uint(name, val) int(*name)[val]
#define __type(name, val) __typeof__(val)* name
#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_ARRAY 2
