// PrometheusText: builds the text exposition format (version 0.0.4).
// Thread: a local value; not shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/histogram.h"

namespace rte::metrics {

// A label value with \\, " and newline escaped (the exposition format's rule).
std::string EscapeLabelValue(std::string_view value);

class PrometheusText {
 public:
  // Writes HELP/TYPE lines once per metric name, then the sample.
  void Counter(std::string_view name, std::string_view help, uint64_t value, std::string_view labels = {});
  // A counter that is not a whole number (seconds of CPU time).
  void FloatCounter(std::string_view name, std::string_view help, double value, std::string_view labels = {});
  void Gauge(std::string_view name, std::string_view help, double value, std::string_view labels = {});
  // A histogram in seconds: cumulative _bucket{le=...} lines, _sum, _count.
  void Histogram(std::string_view name, std::string_view help, const HistogramSnapshot& h, std::string_view labels = {});
  const std::string& text() const { return out_; }

 private:
  void Header(std::string_view name, std::string_view help, std::string_view type);
  void Sample(std::string_view name, double value, std::string_view labels);
  std::string out_;
  std::string last_name_;
};

}  // namespace rte::metrics
