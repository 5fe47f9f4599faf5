// libFuzzer target for the inbound ESP path. The first octet selects an SA
// (GCM/CBC, with and without ESN) and a mode:
//   raw    - the rest is an ESP payload; its SPI is replaced by the SA's, so
//            the input reaches replay checks and ICV verification;
//   sealed - the rest is [seq(4)][plaintext]; it is sealed with the SA's key
//            first, so trailer and inner-header parsing after a valid ICV are
//            fuzzed too.
// The engine must never crash, read out of bounds or accept a raw input.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "xfrm/esp/byte_order.h"
#include "xfrm/esp/sa_table.h"
#include "xfrm/esp/thread_slot.h"
#include "xfrm/esp/transform.h"

namespace {

using namespace ergw::xfrm::esp;

struct Fixture {
  SaTable table;
  std::vector<SaConfig> configs;
  std::vector<std::unique_ptr<Transform>> sealers;

  Fixture() {
    const Algorithm algorithms[] = {{Encryption::aes_gcm_16, 128, Integrity::none},
                                    {Encryption::aes_cbc, 256, Integrity::hmac_sha256_128},
                                    {Encryption::aes_cbc, 128, Integrity::hmac_sha1_96},
                                    {Encryption::aes_gcm_16, 256, Integrity::none}};
    uint32_t spi = 0x100;
    for (const Algorithm& algorithm : algorithms) {
      for (bool esn : {false, true}) {
        SaConfig c;
        c.spi = spi++;
        c.direction = Direction::inbound;
        c.local = *ergw::IpAddress::parse("192.0.2.1");
        c.remote = *ergw::IpAddress::parse("192.0.2.2");
        c.algorithm = algorithm;
        c.encryption_key.assign(algorithm.key_bytes(), 0x42);
        c.integrity_key.assign(algorithm.integrity_key_bytes(), 0x24);
        c.esn = esn;
        c.replay_window = esn ? 4096 : 64;
        c.backend = CryptoBackend::openssl;
        if (!table.add(c).ok()) __builtin_trap();
        SaConfig out = c;
        out.direction = Direction::outbound;
        auto sealer = make_transform(out, 7);
        if (!sealer.ok()) __builtin_trap();
        configs.push_back(c);
        sealers.push_back(std::move(sealer).value());
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  if (size < 1) return 0;
  const size_t which = data[0] % fixture.configs.size();
  const bool sealed = (data[0] & 0x80) != 0;
  const SaConfig& config = fixture.configs[which];
  std::vector<uint8_t> packet;
  if (!sealed) {
    packet.assign(data + 1, data + size);
    if (packet.size() >= 4) store_be32(packet.data(), config.spi);
    const DecapResult r = fixture.table.decapsulate(packet);
    // Without the key nothing may verify (a 2^-96 chance at worst).
    if (r.ok) __builtin_trap();
    return 0;
  }
  if (size < 5) return 0;
  Transform& sealer = *fixture.sealers[which];
  const uint32_t seq = load_be32(data + 1);
  const size_t plain = size - 5;
  if (plain == 0 || plain % sealer.alignment() != 0) return 0;
  packet.assign(sealer.header_bytes() + plain + sealer.icv_bytes(), 0);
  store_be32(packet.data(), config.spi);
  store_be32(packet.data() + 4, seq);
  std::copy(data + 5, data + size, packet.begin() + static_cast<std::ptrdiff_t>(sealer.header_bytes()));
  if (!sealer.seal(current_thread_slot(), packet.data(), plain, seq)) return 0;
  const DecapResult r = fixture.table.decapsulate(packet);
  if (r.ok && (r.inner_offset + r.inner_length > packet.size())) __builtin_trap();
  return 0;
}
