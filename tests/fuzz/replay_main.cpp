// A main() for the fuzz targets when libFuzzer is not there (g++ builds, `make test`): runs every corpus file through
// LLVMFuzzerTestOneInput, and optionally N seeded random mutations of each (a blind fuzzer: no coverage feedback, but
// reproducible and sanitizer-checked).
//
//   replay [--mutations N] [--seed S] [--max-len L] PATH...
//
// A PATH that is a folder means every regular file in it (not recursive), in name order. On a crash (a failed property
// aborts; ASan and UBSan end the process) the input that was running is written to ./replay-crash-input and named on
// stderr. Exit status 0 when every input ran, 2 on a usage error.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// Under ASan the sanitizer runtime ends the process itself (no signal): ask it to call us first.
#if defined(__SANITIZE_ADDRESS__)
#define XBPF_REPLAY_DEATH_CALLBACK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XBPF_REPLAY_DEATH_CALLBACK 1
#endif
#endif
#ifdef XBPF_REPLAY_DEATH_CALLBACK
#include <sanitizer/common_interface_defs.h>
#endif

namespace {

namespace fs = std::filesystem;

struct Input {
    std::string name;
    std::vector<std::uint8_t> bytes;
};

// What is running now, for the crash reporter (plain globals: read from a signal handler).
const std::uint8_t* g_data = nullptr;
std::size_t g_size = 0;
char g_name[512] = "";

void write_all(int fd, const void* buf, std::size_t len) {
    const char* p = static_cast<const char*>(buf);
    while (len > 0) {
        const ssize_t n = ::write(fd, p, len);
        if (n <= 0) return;
        p += n;
        len -= static_cast<std::size_t>(n);
    }
}

// Async-signal-safe: only write(2) and open(2).
void dump_current_input() {
    if (g_name[0] == '\0') return;
    static const char kHeader[] = "\n==replay== crash while running: ";
    write_all(2, kHeader, sizeof(kHeader) - 1);
    write_all(2, g_name, std::strlen(g_name));
    static const char kSaved[] = "\n==replay== input saved to ./replay-crash-input\n";
    const int fd = ::open("replay-crash-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        write_all(fd, g_data, g_size);
        ::close(fd);
        write_all(2, kSaved, sizeof(kSaved) - 1);
    }
    g_name[0] = '\0';  // once: a sanitizer's death callback may be followed by its abort()
}

// Make UBSan (a runtime of its own, which the death callback above does not reach) abort instead of exiting, so that
// on_fatal_signal names the input. UBSAN_OPTIONS from the environment still override this.
extern "C" const char* __ubsan_default_options() { return "abort_on_error=1:print_stacktrace=1"; }

extern "C" void on_fatal_signal(int sig) {
    dump_current_input();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

void run_one(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    std::snprintf(g_name, sizeof(g_name), "%s", name.c_str());
    // A copy of exactly the input's size, so reads past its end are heap overflows ASan sees (as under libFuzzer).
    std::vector<std::uint8_t> copy(bytes);
    g_data = copy.data();
    g_size = copy.size();
    LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), copy.size());
    g_data = nullptr;
    g_size = 0;
    g_name[0] = '\0';
}

// One random edit of `bytes`, in the spirit of libFuzzer's default mutators.
void mutate(std::vector<std::uint8_t>& bytes, const std::vector<Input>& corpus, std::mt19937_64& rng,
            std::size_t max_len) {
    const auto below = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
    static constexpr std::uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x95, 0x85, 0x18, 0x05, 0x0a, 0x20};
    switch (rng() % 7) {
        case 0:  // flip a bit
            if (!bytes.empty()) bytes[below(bytes.size())] ^= static_cast<std::uint8_t>(1u << below(8));
            break;
        case 1:  // set a byte
            if (!bytes.empty()) bytes[below(bytes.size())] = static_cast<std::uint8_t>(rng());
            break;
        case 2:  // an interesting byte
            if (!bytes.empty()) bytes[below(bytes.size())] = kInteresting[below(std::size(kInteresting))];
            break;
        case 3: {  // insert 1..8 random bytes
            std::vector<std::uint8_t> fresh(1 + below(8));
            for (std::uint8_t& b : fresh) b = static_cast<std::uint8_t>(rng());
            bytes.insert(bytes.begin() + static_cast<long>(below(bytes.size() + 1)), fresh.begin(), fresh.end());
            break;
        }
        case 4: {  // erase a range
            if (bytes.empty()) break;
            const std::size_t at = below(bytes.size());
            const std::size_t n = 1 + below(std::min<std::size_t>(16, bytes.size() - at));
            bytes.erase(bytes.begin() + static_cast<long>(at), bytes.begin() + static_cast<long>(at + n));
            break;
        }
        case 5: {  // copy a range of this input elsewhere in it
            if (bytes.empty()) break;
            const std::size_t from = below(bytes.size());
            const std::size_t n = 1 + below(std::min<std::size_t>(32, bytes.size() - from));
            const std::vector<std::uint8_t> chunk(bytes.begin() + static_cast<long>(from),
                                                  bytes.begin() + static_cast<long>(from + n));
            const std::size_t to = below(bytes.size() + 1);
            bytes.insert(bytes.begin() + static_cast<long>(to), chunk.begin(), chunk.end());
            break;
        }
        default: {  // splice in a range of another corpus input
            const Input& other = corpus[below(corpus.size())];
            if (other.bytes.empty()) break;
            const std::size_t from = below(other.bytes.size());
            const std::size_t n = 1 + below(std::min<std::size_t>(64, other.bytes.size() - from));
            const std::size_t to = below(bytes.size() + 1);
            bytes.insert(bytes.begin() + static_cast<long>(to), other.bytes.begin() + static_cast<long>(from),
                         other.bytes.begin() + static_cast<long>(from + n));
            break;
        }
    }
    if (bytes.size() > max_len) bytes.resize(max_len);
}

bool read_input(const fs::path& path, std::vector<Input>& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
        return false;
    }
    out.push_back({path.string(), std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {})});
    return true;
}

int usage() {
    std::fprintf(stderr, "usage: replay [--mutations N] [--seed S] [--max-len L] PATH...\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t mutations = 0;
    std::uint64_t seed = 1;
    std::size_t max_len = 4096;
    std::vector<Input> corpus;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (arg == "--mutations" || arg == "--seed" || arg == "--max-len") {
            const char* v = value();
            if (v == nullptr) return usage();
            const std::uint64_t n = std::strtoull(v, nullptr, 0);
            if (arg == "--mutations") mutations = n;
            if (arg == "--seed") seed = n;
            if (arg == "--max-len") max_len = n;
            continue;
        }
        if (arg.starts_with("-")) return usage();
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            std::vector<fs::path> files;
            for (const auto& entry : fs::directory_iterator(arg, ec))
                if (entry.is_regular_file()) files.push_back(entry.path());
            std::sort(files.begin(), files.end());
            for (const auto& f : files)
                if (!read_input(f, corpus)) return 2;
        } else if (!read_input(arg, corpus)) {
            return 2;
        }
    }
    if (corpus.empty()) return usage();

#ifdef XBPF_REPLAY_DEATH_CALLBACK
    __sanitizer_set_death_callback(dump_current_input);
#endif
    for (const int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_fatal_signal);

    for (const Input& input : corpus) run_one(input.name, input.bytes);
    std::mt19937_64 rng(seed);
    std::size_t mutated = 0;
    for (std::size_t round = 0; round < mutations; ++round) {
        for (const Input& input : corpus) {
            std::vector<std::uint8_t> bytes = input.bytes;
            const std::size_t edits = 1 + rng() % 4;
            for (std::size_t e = 0; e < edits; ++e) mutate(bytes, corpus, rng, max_len);
            run_one(input.name + " (mutation " + std::to_string(round) + ", seed " + std::to_string(seed) + ")", bytes);
            ++mutated;
        }
    }
    std::printf("replay: %zu corpus inputs and %zu mutations ran without a finding\n", corpus.size(), mutated);
    return 0;
}
