// Placeholder until the subcommand lands: registers nothing.
#include "commands.h"

namespace tabpilot::app {

void add_report_commands(CLI::App&, Commands&) {}

}  // namespace tabpilot::app
