#include "metrics/prometheus.h"

#include <cmath>
#include <cstdio>

namespace rte::metrics {

void PrometheusText::Header(std::string_view name, std::string_view help, std::string_view type) {
  if (name == last_name_) return;
  last_name_.assign(name);
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusText::Counter(std::string_view name, std::string_view help, uint64_t value, std::string_view labels) {
  Header(name, help, "counter");
  out_.append(name);
  if (!labels.empty()) out_.append("{").append(labels).append("}");
  out_.append(" ").append(std::to_string(value)).append("\n");
}

void PrometheusText::Gauge(std::string_view name, std::string_view help, double value, std::string_view labels) {
  Header(name, help, "gauge");
  out_.append(name);
  if (!labels.empty()) out_.append("{").append(labels).append("}");
  char buf[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, " %.0f\n", value);
  } else {
    std::snprintf(buf, sizeof buf, " %.6g\n", value);
  }
  out_.append(buf);
}

}  // namespace rte::metrics
