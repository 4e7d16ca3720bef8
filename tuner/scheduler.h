// The concurrent trial runner: one worker thread per slot (a device plus a thread budget)
// pulls tickets from the caller and runs them. Generic: it knows nothing about CSV files,
// learners or the store; the caller's callbacks do.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tabpilot/common/stop_token.h"
#include "tabpilot/cuda/device.h"

namespace tabpilot {

// Where a job's trials run: every core and every visible GPU, the CPU only, or the GPUs only.
enum class DeviceMode { kAuto, kCpu, kGpu };
std::string_view to_string(DeviceMode mode);  // "auto", "cpu", "gpu"
DeviceMode device_mode_from_string(std::string_view name);  // InputError naming --device

struct Slot {
  int index = 0;  // position in the slot list, for logs and per-slot resources
  Device device;
  int threads = 1;
};

struct TrialTicket {
  int64_t trial_id = 0;
  nlohmann::json payload;  // whatever the caller needs to run the trial
};

// Runs tickets concurrently, one worker thread per slot. `ask` is called under a lock and
// returns the next ticket, or std::nullopt when there is none left. `run` executes a ticket on
// a slot with a StopToken that fires at the earlier of `job_stop` and start + per_trial_seconds
// (<= 0: no per-trial limit). Returns once ask() has yielded nullopt and every running trial
// has returned, or, after job_stop fires, as soon as the running trials return (nothing new is
// asked for then). An exception escaping `run` goes to `on_error(ticket, message)` (calls are
// serialized) and the job goes on. An exception from `ask` or `on_error` stops asking and is
// rethrown here once the running trials have returned. Throws std::invalid_argument on an
// empty slot list.
void run_trials(const std::vector<Slot>& slots, const StopToken& job_stop, double per_trial_seconds,
                const std::function<std::optional<TrialTicket>()>& ask,
                const std::function<void(const TrialTicket&, const Slot&, const StopToken&)>& run,
                const std::function<void(const TrialTicket&, const std::string&)>& on_error);

// CPU slots of `threads_per_trial` threads each: total_threads / threads_per_trial of them,
// at least one (holding min(total, per-trial) threads). total_threads <= 0 means the
// machine's hardware concurrency. Throws InputError when threads_per_trial < 1.
std::vector<Slot> cpu_slots(int total_threads, int threads_per_trial);

// The job's slots from the GPUs the device layer reports (cuda_devices(), or a simulated
// list in tests) and the CPU thread budget. mode "cpu": cpu_slots() only. "auto": every GPU
// gets slots_per_gpu slots, each with min(threads_per_trial, total) host threads (a GPU
// slot may run a learner without a CUDA path on the CPU), besides the CPU slots. "gpu": GPU
// slots only, sharing the thread budget evenly (at least one thread each). GPU slots come
// first, round-robin over the devices (cuda:0, cuda:1, ..., cuda:0, ...), so that a job with
// few trials still reaches every GPU. Indexes are positions in the list. Throws InputError
// on slots_per_gpu < 1, threads_per_trial < 1, or mode "gpu" without GPUs.
std::vector<Slot> plan_slots(int total_threads, int threads_per_trial,
                             const std::vector<Device>& gpus, int slots_per_gpu,
                             DeviceMode mode);

}  // namespace tabpilot
