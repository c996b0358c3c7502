/* Shared includes of the test programs in tests/programs (compiled with clang -O2 -g -target bpf). */
#pragma once

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
