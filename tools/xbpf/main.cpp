// xbpf: the single command-line tool. Each subcommand lives in its own file (cmd_*.cpp) and registers in kCommands.
#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
    (void)argc;
    (void)argv;
    std::fputs("xbpf: not built yet\n", stderr);
    return 1;
}
