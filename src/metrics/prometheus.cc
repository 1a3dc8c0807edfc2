#include "metrics/prometheus.h"

#include <cmath>
#include <cstdio>

namespace rte::metrics {

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

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

void PrometheusText::FloatCounter(std::string_view name, std::string_view help, double value, std::string_view labels) {
  Header(name, help, "counter");
  Sample(name, value, labels);
}

void PrometheusText::Gauge(std::string_view name, std::string_view help, double value, std::string_view labels) {
  Header(name, help, "gauge");
  Sample(name, value, labels);
}

void PrometheusText::Sample(std::string_view name, double value, std::string_view labels) {
  out_.append(name);
  if (!labels.empty()) out_.append("{").append(labels).append("}");
  char buf[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, " %.0f\n", value);
  } else {
    std::snprintf(buf, sizeof buf, " %.15g\n", value);
  }
  out_.append(buf);
}

void PrometheusText::Histogram(std::string_view name, std::string_view help, const HistogramSnapshot& h,
                               std::string_view labels) {
  Header(name, help, "histogram");
  const std::string base(name);
  const std::string extra = labels.empty() ? std::string() : std::string(labels) + ",";
  char buf[64];
  uint64_t cumulative = 0;
  for (size_t b = 0; b < h.buckets.size(); ++b) {
    cumulative += h.buckets[b];
    std::string le = "+Inf";
    if (b < LatencyHistogram::kBoundsUs.size()) {
      std::snprintf(buf, sizeof buf, "%g", static_cast<double>(LatencyHistogram::kBoundsUs[b]) / 1e6);
      le = buf;
    }
    out_.append(base).append("_bucket{").append(extra).append("le=\"").append(le).append("\"} ");
    out_.append(std::to_string(cumulative)).append("\n");
  }
  const std::string suffix = labels.empty() ? std::string() : "{" + std::string(labels) + "}";
  std::snprintf(buf, sizeof buf, " %.6f\n", static_cast<double>(h.sum_us) / 1e6);
  out_.append(base).append("_sum").append(suffix).append(buf);
  out_.append(base).append("_count").append(suffix).append(" ").append(std::to_string(h.count)).append("\n");
}

}  // namespace rte::metrics
