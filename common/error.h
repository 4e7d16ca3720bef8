// Error kinds that map onto the CLI's documented exit codes: InputError (bad input or
// usage, exit 2) and everything else (internal failure, exit 1). Messages name the file,
// line or column and, where there is one, the remedy.
#pragma once
#include <stdexcept>
#include <string>

namespace tabpilot {

// Bad input or usage: the user can fix it. The CLI prints the message and exits 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A feature that this build or machine lacks (e.g. CUDA); says how to get it. Exit 2.
class UnavailableError : public InputError {
 public:
  using InputError::InputError;
};

}  // namespace tabpilot
