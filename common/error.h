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

// What every GPU entry point of a build without the CUDA backend throws: `what` names the
// entry point, the message says how to get it.
[[noreturn]] inline void throw_cuda_unavailable(const std::string& what) {
  throw UnavailableError(what + " needs the CUDA backend: rebuild with -DTABPILOT_CUDA=ON and "
                         "the CUDA toolkit, or use the CPU");
}

}  // namespace tabpilot
