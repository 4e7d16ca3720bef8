// Subcommands of the `tabpilot` command line, one file each (app/cmd_*.cpp). Each add_*
// function registers its subcommand(s) on the app and returns what runs them; main() parses,
// runs the one the user chose, and maps exceptions to exit codes (common/error.h: InputError
// -> 2, anything else -> 1).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace tabpilot::app {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;
// --threads above this is refused: every thread is a trial slot or a server worker.
inline constexpr int kMaxThreads = 1024;

struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> run;  // the exit code
};
using Commands = std::vector<Command>;

void add_serve_command(CLI::App& app, Commands& out);    // cmd_serve.cpp: serve
void add_monitor_command(CLI::App& app, Commands& out);  // cmd_monitor.cpp: monitor baseline|check
void add_train_command(CLI::App& app, Commands& out);    // cmd_train.cpp: train (container, --trial)
void add_report_commands(CLI::App& app, Commands& out);  // cmd_report.cpp: report, explain

}  // namespace tabpilot::app
