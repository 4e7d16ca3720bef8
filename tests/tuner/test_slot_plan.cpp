// plan_slots over lists of simulated GPUs (0, 1, 4), several slots per GPU, the three modes;
// and run_trials on such a plan uses every slot, GPU and CPU alike.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tabpilot/common/error.h"
#include "tabpilot/tuner/scheduler.h"

namespace tabpilot {
namespace {

std::vector<Device> simulated_gpus(int n) {
  std::vector<Device> v;
  for (int i = 0; i < n; ++i) v.push_back(Device::cuda(i));
  return v;
}

TEST(PlanSlots, NoGpuAutoIsTheCpuSlots) {
  auto s = plan_slots(8, 2, {}, 2, DeviceMode::kAuto);
  ASSERT_EQ(s.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s[i].index, i);
    EXPECT_TRUE(s[i].device.is_cpu());
    EXPECT_EQ(s[i].threads, 2);
  }
  EXPECT_EQ(plan_slots(8, 2, {}, 1, DeviceMode::kCpu).size(), 4u);
  EXPECT_THROW(plan_slots(8, 2, {}, 1, DeviceMode::kGpu), InputError);
}

TEST(PlanSlots, OneGpuGetsItsSlotsBesideTheCpu) {
  for (int per_gpu : {1, 2, 3}) {
    auto s = plan_slots(4, 1, simulated_gpus(1), per_gpu, DeviceMode::kAuto);
    ASSERT_EQ(s.size(), static_cast<size_t>(per_gpu + 4));
    for (int i = 0; i < per_gpu; ++i) EXPECT_EQ(s[i].device, Device::cuda(0));
    for (size_t i = per_gpu; i < s.size(); ++i) EXPECT_TRUE(s[i].device.is_cpu());
    for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i].index, static_cast<int>(i));
  }
  auto cpu_only = plan_slots(4, 1, simulated_gpus(1), 2, DeviceMode::kCpu);
  EXPECT_EQ(cpu_only.size(), 4u);
  for (const auto& s : cpu_only) EXPECT_TRUE(s.device.is_cpu());
}

TEST(PlanSlots, FourGpusRoundRobinWithSeveralSlotsEach) {
  auto s = plan_slots(16, 4, simulated_gpus(4), 2, DeviceMode::kAuto);
  ASSERT_EQ(s.size(), 8u + 4u);
  // cuda:0..3, then cuda:0..3 again: the first four slots already cover every GPU.
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(s[i].device, Device::cuda(i % 4)) << i;
    EXPECT_EQ(s[i].threads, 4);
  }
  for (int i = 8; i < 12; ++i) EXPECT_TRUE(s[i].device.is_cpu());
  std::map<int, int> per_device;
  for (const auto& slot : s)
    if (slot.device.is_cuda()) per_device[slot.device.ordinal]++;
  EXPECT_EQ(per_device, (std::map<int, int>{{0, 2}, {1, 2}, {2, 2}, {3, 2}}));
}

TEST(PlanSlots, GpuModeSharesTheThreadsAmongGpuSlotsOnly) {
  auto s = plan_slots(16, 1, simulated_gpus(4), 2, DeviceMode::kGpu);
  ASSERT_EQ(s.size(), 8u);
  for (const auto& slot : s) {
    EXPECT_TRUE(slot.device.is_cuda());
    EXPECT_EQ(slot.threads, 2);  // 16 threads / 8 slots
  }
  auto few = plan_slots(2, 1, simulated_gpus(4), 3, DeviceMode::kGpu);
  ASSERT_EQ(few.size(), 12u);
  for (const auto& slot : few) EXPECT_EQ(slot.threads, 1);  // never below one
}

TEST(PlanSlots, RejectsBadArguments) {
  EXPECT_THROW(plan_slots(4, 1, simulated_gpus(1), 0, DeviceMode::kAuto), InputError);
  EXPECT_THROW(device_mode_from_string("tpu"), InputError);
  EXPECT_EQ(device_mode_from_string(to_string(DeviceMode::kGpu)), DeviceMode::kGpu);
  EXPECT_THROW(plan_slots(4, 0, simulated_gpus(1), 1, DeviceMode::kAuto), InputError);
  EXPECT_THROW(plan_slots(4, 1, {Device::cpu()}, 1, DeviceMode::kAuto), std::invalid_argument);
}

// Every slot of a 4-GPU x 2 + 4-CPU plan runs trials at once: each trial waits (up to 2 s)
// until all slots are busy, so the record shows real concurrency even on two cores.
TEST(PlanSlots, RunTrialsUsesEverySlotConcurrently) {
  auto slots = plan_slots(4, 1, simulated_gpus(4), 2, DeviceMode::kAuto);
  const int n = static_cast<int>(slots.size());
  std::atomic<int> active{0}, max_active{0}, next{0};
  std::mutex m;
  std::set<int> used_slots;
  std::set<std::string> used_devices;
  run_trials(
      slots, StopToken(), 0,
      [&]() -> std::optional<TrialTicket> {
        if (next >= 3 * n) return std::nullopt;
        int id = next++;
        return TrialTicket{id, {}};
      },
      [&](const TrialTicket&, const Slot& s, const StopToken&) {
        {
          std::lock_guard lock(m);
          used_slots.insert(s.index);
          used_devices.insert(s.device.str());
        }
        int now = ++active;
        int seen = max_active.load();
        while (now > seen && !max_active.compare_exchange_weak(seen, now)) {
        }
        auto t0 = std::chrono::steady_clock::now();
        while (max_active.load() < n && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2))
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        --active;
      },
      [](const TrialTicket& t, const std::string& msg) {
        ADD_FAILURE() << "trial " << t.trial_id << ": " << msg;
      });
  EXPECT_EQ(max_active.load(), n);
  EXPECT_EQ(used_slots.size(), static_cast<size_t>(n));
  EXPECT_EQ(used_devices,
            (std::set<std::string>{"cpu", "cuda:0", "cuda:1", "cuda:2", "cuda:3"}));
}

}  // namespace
}  // namespace tabpilot
