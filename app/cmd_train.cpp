// Placeholder until the subcommand lands: registers nothing.
#include "commands.h"

namespace tabpilot::app {

void add_train_command(CLI::App&, Commands&) {}

}  // namespace tabpilot::app
