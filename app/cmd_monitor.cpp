// Placeholder until the subcommand lands: registers nothing.
#include "commands.h"

namespace tabpilot::app {

void add_monitor_command(CLI::App&, Commands&) {}

}  // namespace tabpilot::app
