#include "gateway/policy/azure_defaults.h"

namespace ergw::policy {

const std::vector<std::string>& azure_default_ike_proposals() {
  // RouteBased: 1. AES256/SHA1 2. AES256/SHA256 3. AES128/SHA1 4. AES128/SHA256
  // 5. 3DES/SHA1 6. 3DES/SHA256, "Group 2 (1024 bit)".
  static const std::vector<std::string> kOffers = {
      "aes256-sha1-modp1024",  "aes256-sha256-modp1024", "aes128-sha1-modp1024",
      "aes128-sha256-modp1024", "3des-sha1-modp1024",    "3des-sha256-modp1024"};
  return kOffers;
}

const std::vector<std::string>& azure_default_esp_initiator_offers() {
  // 1 GCM AES256 (16-octet ICV, as seen on the wire) 2 AES256/SHA1 3 3DES/SHA1
  // 4 AES256/SHA256 5 AES128/SHA1 6 3DES/SHA256; no PFS.
  static const std::vector<std::string> kOffers = {"aes256gcm16", "aes256-sha1",  "3des-sha1",
                                                   "aes256-sha256", "aes128-sha1", "3des-sha256"};
  return kOffers;
}

}  // namespace ergw::policy
