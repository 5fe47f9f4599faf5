// A console reporter that also keeps one counter of every benchmark row (the
// median when --benchmark_repetitions repeats it), so that a benchmark binary
// can print ratios between rows measured in the same run at the end.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace ergw::bench {

class CounterReporter : public benchmark::ConsoleReporter {
 public:
  explicit CounterReporter(std::string counter) : counter_(std::move(counter)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      // With --benchmark_repetitions the median stands for the benchmark.
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      const auto it = run.counters.find(counter_);
      if (it == run.counters.end()) continue;
      const std::string name = run.run_name.str();
      if (!values_.contains(name)) order_.push_back(name);
      values_[name] = it->second.value;
    }
  }

 protected:
  // The row's counter, or nullptr when the row did not run.
  const double* value(const std::string& row) const {
    const auto it = values_.find(row);
    return it == values_.end() ? nullptr : &it->second;
  }
  const std::vector<std::string>& rows() const { return order_; }

 private:
  std::string counter_;
  std::map<std::string, double> values_;
  std::vector<std::string> order_;
};

// Runs the registered benchmarks with `reporter`; main()'s return value.
inline int run_benchmarks(int argc, char** argv, benchmark::BenchmarkReporter& reporter) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace ergw::bench
