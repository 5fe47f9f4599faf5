#include "xfrm/fastpath/static_sas.h"

#include <algorithm>

#include "xfrm/esp/engine.h"

namespace ergw::xfrm::fastpath {
namespace {

std::vector<control::TrafficSelector> selectors_of(const std::vector<IpPrefix>& prefixes) {
  std::vector<control::TrafficSelector> out;
  if (prefixes.empty()) {
    // Empty = any address of either family.
    out.push_back({0, IpPrefix(IpAddress(), 0), 0, 65535});
    out.push_back({0, IpPrefix(*IpAddress::parse("::"), 0), 0, 65535});
    return out;
  }
  for (const IpPrefix& p : prefixes) out.push_back({0, p, 0, 65535});
  return out;
}

}  // namespace

Status install_static_sas(IpsecState& state, const SaFile& file, SaLabels& labels) {
  for (size_t i = 0; i < file.sas.size(); ++i) {
    const StaticSa& sa = file.sas[i];
    const bool inbound = sa.config.direction == esp::Direction::inbound;
    control::AddSaRequest request;
    request.key.spi = sa.config.spi;
    request.key.src = inbound ? sa.config.remote : sa.config.local;
    request.key.dst = inbound ? sa.config.local : sa.config.remote;
    request.reqid = static_cast<uint32_t>(i + 1);
    request.config = sa.config;
    if (Status s = state.add_sa(request); !s.ok()) return Error{"SA " + sa.name + ": " + s.error()};
    labels[{request.key.spi, request.key.dst}] = sa.name;
    for (const control::TrafficSelector& src : selectors_of(sa.selector_src)) {
      for (const control::TrafficSelector& dst : selectors_of(sa.selector_dst)) {
        if (src.prefix.is_v4() != dst.prefix.is_v4()) continue;
        control::PolicyRequest policy;
        policy.direction = inbound ? control::PolicyDirection::in : control::PolicyDirection::out;
        policy.src_ts = src;
        policy.dst_ts = dst;
        policy.reqid = request.reqid;
        policy.spi = sa.config.spi;
        if (Status s = state.add_policy(policy); !s.ok()) return Error{"SA " + sa.name + ": " + s.error()};
      }
    }
  }
  return Status::success();
}

Result<std::vector<OuterEndpoint>> static_endpoints(const SaFile& file) {
  std::vector<OuterEndpoint> out;
  for (const StaticSa& sa : file.sas) {
    const bool udp = sa.config.encapsulation == esp::Encapsulation::udp;
    OuterEndpoint ep{udp ? io::OuterKind::udp : io::OuterKind::raw_esp, sa.config.local,
                     static_cast<uint16_t>(udp ? sa.config.udp_local_port : 0)};
    const auto same_slot = [&](const OuterEndpoint& e) {
      return e.kind == ep.kind && e.local.is_v4() == ep.local.is_v4();
    };
    const auto it = std::find_if(out.begin(), out.end(), same_slot);
    if (it == out.end()) {
      out.push_back(ep);
    } else if (it->local != ep.local || it->port != ep.port) {
      return Error{"SA " + sa.name + ": every SA of one encapsulation and family must use the same local address "
                   "and port (" + it->local.to_string() + ")"};
    }
  }
  return out;
}

size_t static_overhead(const SaFile& file) {
  size_t worst = 0;
  for (const StaticSa& sa : file.sas) {
    if (sa.config.direction != esp::Direction::outbound) continue;
    const esp::Algorithm& alg = sa.config.algorithm;
    const size_t block = alg.is_aead() ? 4 : 16;  // RFC 4303 2.4 alignment / CBC block
    worst = std::max(worst, (sa.config.local.is_v4() ? size_t{20} : size_t{40}) +
                                (sa.config.encapsulation == esp::Encapsulation::udp ? 8 : 0) +
                                esp::kEspHeaderBytes + alg.iv_bytes() + (block - 1) + 2 + alg.icv_bytes());
  }
  return worst;
}

}  // namespace ergw::xfrm::fastpath
