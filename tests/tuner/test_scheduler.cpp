// run_trials: every ticket exactly once, real concurrency up to the slot count, prompt stop,
// per-trial limits, failures isolated; and cpu_slots arithmetic.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "tabpilot/common/error.h"
#include "tabpilot/tuner/scheduler.h"

namespace tabpilot {
namespace {

using namespace std::chrono_literals;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// ask() over tickets 0..n-1.
std::function<std::optional<TrialTicket>()> counter(int n) {
  auto next = std::make_shared<int>(0);
  return [next, n]() -> std::optional<TrialTicket> {
    if (*next >= n) return std::nullopt;
    int id = (*next)++;
    return TrialTicket{id, {{"i", id}}};
  };
}

void no_error(const TrialTicket& t, const std::string& m) {
  ADD_FAILURE() << "trial " << t.trial_id << " failed: " << m;
}

TEST(Scheduler, EveryTicketRunsExactlyOnce) {
  constexpr int kN = 60;
  auto slots = cpu_slots(4, 1);
  std::vector<std::atomic<int>> runs(kN);
  std::atomic<int> bad_slot{0};
  run_trials(
      slots, StopToken(), 0, counter(kN),
      [&](const TrialTicket& t, const Slot& s, const StopToken&) {
        EXPECT_EQ(t.payload["i"], t.trial_id);
        if (s.index < 0 || s.index >= 4 || !s.device.is_cpu()) bad_slot++;
        runs[t.trial_id]++;
      },
      no_error);
  for (int i = 0; i < kN; ++i) EXPECT_EQ(runs[i].load(), 1) << "ticket " << i;
  EXPECT_EQ(bad_slot.load(), 0);
}

// Each trial waits (up to 2 s) until all slots are busy, so max concurrency reaches the slot
// count even on a 2-core machine; and it must never exceed it.
TEST(Scheduler, ConcurrencyReachesTheSlotCountAndNoMore) {
  constexpr int kSlots = 4;
  std::atomic<int> active{0}, max_active{0};
  std::mutex m;
  std::vector<int> slot_busy(kSlots, 0);
  bool slot_shared = false;
  run_trials(
      cpu_slots(kSlots * 2, 2), StopToken(), 0, counter(3 * kSlots),
      [&](const TrialTicket&, const Slot& s, const StopToken&) {
        EXPECT_EQ(s.threads, 2);
        {
          std::lock_guard lock(m);
          if (slot_busy[s.index]++) slot_shared = true;
        }
        int now = ++active;
        int seen = max_active.load();
        while (now > seen && !max_active.compare_exchange_weak(seen, now)) {
        }
        auto t0 = Clock::now();
        while (max_active.load() < kSlots && seconds_since(t0) < 2)
          std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(5ms);
        --active;
        std::lock_guard lock(m);
        slot_busy[s.index]--;
      },
      no_error);
  EXPECT_EQ(max_active.load(), kSlots);
  EXPECT_FALSE(slot_shared) << "two trials ran on one slot at once";
}

TEST(Scheduler, JobStopReturnsPromptlyAndStopsAsking) {
  std::atomic<bool> cancel{false};
  std::atomic<int> asked{0}, asked_after_stop{0};
  Clock::time_point stopped_at{};
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    stopped_at = Clock::now();
    cancel = true;
  });
  run_trials(
      cpu_slots(3, 1), StopToken(Clock::time_point::max(), &cancel), 0,
      [&]() -> std::optional<TrialTicket> {  // endless, but a broken stop must not hang
        if (cancel) asked_after_stop++;
        if (asked >= 1000) return std::nullopt;
        return TrialTicket{asked++, {}};
      },
      [&](const TrialTicket&, const Slot&, const StopToken& stop) {
        // Trials long enough that the stop lands mid-trial; they poll their token.
        auto t0 = Clock::now();
        while (!stop.should_stop() && seconds_since(t0) < 10) std::this_thread::sleep_for(1ms);
      },
      no_error);
  double lag = seconds_since(stopped_at);
  stopper.join();
  EXPECT_LT(lag, 0.5);
  EXPECT_EQ(asked.load(), 3);  // one per slot, none after the stop
  EXPECT_EQ(asked_after_stop.load(), 0);
}

TEST(Scheduler, JobDeadlineEndsAnEndlessQueue) {
  auto t0 = Clock::now();
  std::atomic<int> ran{0};
  run_trials(
      cpu_slots(2, 1), StopToken::after_seconds(0.2), 0,
      [&]() -> std::optional<TrialTicket> {
        if (ran >= 1000) return std::nullopt;
        return TrialTicket{0, {}};
      },
      [&](const TrialTicket&, const Slot&, const StopToken& stop) {
        ran++;
        std::this_thread::sleep_for(10ms);
      },
      no_error);
  double took = seconds_since(t0);
  EXPECT_GE(took, 0.19);
  EXPECT_LT(took, 0.7);
  EXPECT_GT(ran.load(), 4);
}

TEST(Scheduler, PerTrialLimitFires) {
  std::mutex m;
  std::vector<double> elapsed;
  bool all_timed_out = true;
  auto t0 = Clock::now();
  run_trials(
      cpu_slots(2, 1), StopToken(), 0.1, counter(4),
      [&](const TrialTicket&, const Slot&, const StopToken& stop) {
        auto start = Clock::now();
        EXPECT_LE(stop.seconds_left(), 0.1);
        while (!stop.should_stop() && seconds_since(start) < 5) std::this_thread::sleep_for(1ms);
        std::lock_guard lock(m);
        elapsed.push_back(seconds_since(start));
        all_timed_out = all_timed_out && stop.timed_out();
      },
      no_error);
  ASSERT_EQ(elapsed.size(), 4u);
  for (double e : elapsed) {
    EXPECT_GE(e, 0.09);
    EXPECT_LT(e, 0.5);
  }
  EXPECT_TRUE(all_timed_out);
  // Four 0.1 s trials on two slots: about 0.2 s, far below the 5 s guard.
  EXPECT_LT(seconds_since(t0), 1.0);
}

TEST(Scheduler, FailuresGoToOnErrorAndTheRestStillRun) {
  constexpr int kN = 12;
  std::vector<std::atomic<int>> finished(kN);
  std::mutex m;
  std::map<int64_t, std::string> errors;
  run_trials(
      cpu_slots(3, 1), StopToken(), 0, counter(kN),
      [&](const TrialTicket& t, const Slot&, const StopToken&) {
        if (t.trial_id == 3) throw std::runtime_error("non-finite loss at epoch 3");
        if (t.trial_id == 7) throw 42;
        finished[t.trial_id]++;
      },
      [&](const TrialTicket& t, const std::string& msg) {
        std::lock_guard lock(m);
        errors[t.trial_id] = msg;
      });
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[3], "non-finite loss at epoch 3");
  EXPECT_NE(errors[7].find("unknown exception"), std::string::npos);
  for (int i = 0; i < kN; ++i) EXPECT_EQ(finished[i].load(), i == 3 || i == 7 ? 0 : 1) << i;
}

TEST(Scheduler, AskExceptionIsRethrownAfterRunningTrialsReturn) {
  std::atomic<int> asked{0}, running{0}, still_running_at_return{0};
  EXPECT_THROW(run_trials(
                   cpu_slots(2, 1), StopToken(), 0,
                   [&]() -> std::optional<TrialTicket> {
                     if (asked++ == 2) throw std::runtime_error("store is gone");
                     return TrialTicket{asked.load(), {}};
                   },
                   [&](const TrialTicket&, const Slot&, const StopToken&) {
                     running++;
                     std::this_thread::sleep_for(20ms);
                     running--;
                   },
                   no_error),
               std::runtime_error);
  EXPECT_EQ(running.load(), 0);
  EXPECT_EQ(asked.load(), 3);
}

TEST(Scheduler, EmptySlotListIsRejected) {
  EXPECT_THROW(run_trials({}, StopToken(), 0, counter(1), {}, {}), std::invalid_argument);
}

TEST(CpuSlots, SplitsTheThreadBudget) {
  auto s = cpu_slots(8, 2);
  ASSERT_EQ(s.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s[i].index, i);
    EXPECT_EQ(s[i].threads, 2);
    EXPECT_TRUE(s[i].device.is_cpu());
  }
  EXPECT_EQ(cpu_slots(7, 2).size(), 3u);
  auto one = cpu_slots(3, 8);  // fewer threads than a trial wants: one smaller slot
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].threads, 3);
  EXPECT_GE(cpu_slots(0, 1).size(), 1u);  // 0 = hardware concurrency
  EXPECT_THROW(cpu_slots(4, 0), InputError);
}

}  // namespace
}  // namespace tabpilot
