// The Prometheus text exposition of ergwd's state (GET /metrics), rendered
// with prometheus-cpp's serializer from one Observation and the
// configuration's state. Names follow Prometheus conventions (counters end in
// _total, times are *_timestamp_seconds, units in the name) and map to Azure's
// VPN gateway metrics as docs/metrics.md lists. Labels carry configured names
// (connection, peer) and a few bounded values (reason, sa, state, daemon),
// never an SPI or an SA id.
#pragma once

#include <memory>
#include <string>

#include <prometheus/histogram.h>

#include "gateway/metrics/observation.h"

namespace ergw::metrics {

struct BuildInfo {
  std::string version;
  std::string commit;
};

// The reconcile duration histogram: observed by the daemon (any thread),
// rendered here. Buckets from 1 ms to 30 s.
std::shared_ptr<prometheus::Histogram> make_reconcile_histogram();

struct MetricsInput {
  const Observation* observation = nullptr;
  const ConfigObservation* config = nullptr;
  const prometheus::Histogram* reconcile_duration = nullptr;  // may be null
  BuildInfo build;
};

std::string render_metrics(const MetricsInput& input);

// The content type of the text format, version 0.0.4.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace ergw::metrics
