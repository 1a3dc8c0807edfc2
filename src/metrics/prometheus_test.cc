#include "metrics/prometheus.h"

#include <gtest/gtest.h>

namespace rte::metrics {
namespace {

TEST(PrometheusTextTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain-topic.1"), "plain-topic.1");
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(PrometheusTextTest, WritesOneHeaderPerFamilyAndFullPrecision) {
  PrometheusText p;
  p.Counter("x_total", "help x", 3, "a=\"1\"");
  p.Counter("x_total", "help x", 4, "a=\"2\"");
  p.FloatCounter("cpu_seconds_total", "cpu", 1.25);
  p.Gauge("start_time_seconds", "start", 1764480000.5);
  EXPECT_EQ(p.text(),
            "# HELP x_total help x\n# TYPE x_total counter\nx_total{a=\"1\"} 3\nx_total{a=\"2\"} 4\n"
            "# HELP cpu_seconds_total cpu\n# TYPE cpu_seconds_total counter\ncpu_seconds_total 1.25\n"
            "# HELP start_time_seconds start\n# TYPE start_time_seconds gauge\nstart_time_seconds 1764480000.5\n");
}

}  // namespace
}  // namespace rte::metrics
