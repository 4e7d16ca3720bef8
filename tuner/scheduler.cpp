#include "tabpilot/tuner/scheduler.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "tabpilot/common/error.h"

namespace tabpilot {
namespace {

std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception (not derived from std::exception)";
  }
}

}  // namespace

void run_trials(const std::vector<Slot>& slots, const StopToken& job_stop, double per_trial_seconds,
                const std::function<std::optional<TrialTicket>()>& ask,
                const std::function<void(const TrialTicket&, const Slot&, const StopToken&)>& run,
                const std::function<void(const TrialTicket&, const std::string&)>& on_error) {
  if (slots.empty()) throw std::invalid_argument("run_trials needs at least one slot");

  std::mutex ask_mutex, error_mutex;
  bool exhausted = false;    // guarded by ask_mutex
  std::exception_ptr fatal;  // first exception from ask/on_error; guarded by ask_mutex

  auto stop_asking = [&](std::exception_ptr e) {
    std::lock_guard lock(ask_mutex);
    exhausted = true;
    if (!fatal) fatal = e;
  };

  auto worker = [&](const Slot& slot) {
    for (;;) {
      std::optional<TrialTicket> ticket;
      {
        std::lock_guard lock(ask_mutex);
        // Checked under the lock so that no ticket is handed out after the stop is seen.
        if (exhausted || job_stop.should_stop()) return;
        try {
          ticket = ask();
        } catch (...) {
          exhausted = true;
          if (!fatal) fatal = std::current_exception();
          return;
        }
        if (!ticket) {
          exhausted = true;
          return;
        }
      }
      StopToken token = job_stop;
      if (per_trial_seconds > 0)
        token = job_stop.with_deadline(Clock::now() +
                                       std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(per_trial_seconds)));
      std::exception_ptr failure;
      try {
        run(*ticket, slot, token);
      } catch (...) {
        failure = std::current_exception();
      }
      if (failure) {
        try {
          std::lock_guard lock(error_mutex);
          on_error(*ticket, describe(failure));
        } catch (...) {
          stop_asking(std::current_exception());
          return;
        }
      }
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(slots.size());
  try {
    for (const Slot& slot : slots) threads.emplace_back(worker, std::cref(slot));
  } catch (...) {
    // Could not start a thread: let the ones already running drain, then report it.
    stop_asking(std::current_exception());
  }
  for (auto& t : threads) t.join();
  if (fatal) std::rethrow_exception(fatal);
}

std::vector<Slot> cpu_slots(int total_threads, int threads_per_trial) {
  if (threads_per_trial < 1)
    throw InputError("threads per trial must be at least 1, got " +
                     std::to_string(threads_per_trial));
  if (total_threads <= 0)
    total_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  int n = std::max(1, total_threads / threads_per_trial);
  int per = std::min(threads_per_trial, total_threads);
  std::vector<Slot> slots;
  for (int i = 0; i < n; ++i) slots.push_back({i, Device::cpu(), per});
  return slots;
}

std::string_view to_string(DeviceMode mode) {
  switch (mode) {
    case DeviceMode::kCpu:
      return "cpu";
    case DeviceMode::kGpu:
      return "gpu";
    case DeviceMode::kAuto:
      break;
  }
  return "auto";
}

DeviceMode device_mode_from_string(std::string_view name) {
  for (DeviceMode m : {DeviceMode::kAuto, DeviceMode::kCpu, DeviceMode::kGpu})
    if (to_string(m) == name) return m;
  throw InputError("--device must be auto, cpu or gpu, got '" + std::string(name) + "'");
}

std::vector<Slot> plan_slots(int total_threads, int threads_per_trial,
                             const std::vector<Device>& gpus, int slots_per_gpu,
                             DeviceMode mode) {
  if (slots_per_gpu < 1)
    throw InputError("slots per GPU must be at least 1, got " + std::to_string(slots_per_gpu));
  std::vector<Slot> cpu = cpu_slots(total_threads, threads_per_trial);  // checks the threads
  if (mode == DeviceMode::kCpu) return cpu;
  if (total_threads <= 0)
    total_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (mode == DeviceMode::kGpu && gpus.empty())
    throw InputError("device gpu: no GPU is visible (give --device auto or cpu to use the CPU)");
  const int n_gpu = static_cast<int>(gpus.size()) * slots_per_gpu;
  const int per_gpu_slot = mode == DeviceMode::kGpu ? std::max(1, total_threads / std::max(1, n_gpu))
                                         : std::min(threads_per_trial, total_threads);
  std::vector<Slot> slots;
  for (int round = 0; round < slots_per_gpu; ++round)
    for (const Device& d : gpus) {
      if (!d.is_cuda())
        throw std::invalid_argument("plan_slots: " + d.str() + " in the GPU list is not a GPU");
      slots.push_back({static_cast<int>(slots.size()), d, per_gpu_slot});
    }
  if (mode == DeviceMode::kAuto)
    for (Slot s : cpu) {
      s.index = static_cast<int>(slots.size());
      slots.push_back(s);
    }
  return slots;
}

}  // namespace tabpilot
