#include "lab/azure/azure_offers.h"

#include <array>
#include <stdexcept>
#include <string_view>

namespace ergw::azure_lab {
namespace {

using policy::DhGroup;
using policy::IkeEncryption;
using policy::IkeIntegrity;
using policy::IpsecEncryption;
using policy::IpsecIntegrity;
using policy::PfsGroup;

// "About cryptographic requirements and Azure VPN gateways" prints the table
// of Azure's group names: group 1 768-bit MODP, 2 1024-bit MODP, 14 2048-bit
// MODP, 19 256-bit ECP, 20 384-bit ECP, 24 2048-bit MODP (RFC 5114, 256-bit
// subgroup). strongSwan names them as below.
std::string group_keyword(int group) {
  switch (group) {
    case 0: return "";
    case 1: return "modp768";
    case 2: return "modp1024";
    case 14: return "modp2048";
    case 19: return "ecp256";
    case 20: return "ecp384";
    case 24: return "modp2048s256";
    default: throw std::logic_error("no strongSwan keyword for DH group " + std::to_string(group));
  }
}

std::string cipher_keyword(std::string_view name) {
  if (name == "GCM AES256") return "aes256gcm16";  // Azure's initiator offer as seen on the wire: 16-octet ICV
  if (name == "AES256") return "aes256";
  if (name == "AES128") return "aes128";
  if (name == "3DES") return "3des";
  if (name == "DES") return "des";
  throw std::logic_error("no strongSwan keyword for " + std::string(name));
}

std::string hash_keyword(std::string_view name) {
  if (name.rfind("GCM", 0) == 0) return "";  // AEAD: no separate integrity algorithm
  if (name == "SHA1") return "sha1";
  if (name == "SHA256") return "sha256";
  throw std::logic_error("no strongSwan keyword for " + std::string(name));
}

std::string joined(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += '-';
    out += p;
  }
  return out;
}

// "About VPN devices for S2S connections", Default IPsec/IKE parameters,
// RouteBased, "Encryption & Hashing", with "Group 2 (1024 bit)".
constexpr std::array<IkeOffer, 6> kIkeOffers = {{{"AES256", "SHA1", 2},
                                                  {"AES256", "SHA256", 2},
                                                  {"AES128", "SHA1", 2},
                                                  {"AES128", "SHA256", 2},
                                                  {"3DES", "SHA1", 2},
                                                  {"3DES", "SHA256", 2}}};

// The same page, "RouteBased QM SA Offers", in the order "the offer is
// presented or accepted". The initiator's offers are the responder's first six.
constexpr std::array<QuickModeOffer, 26> kQuickModeOffers = {{
    {"GCM AES256", "GCM (AES256)", 0},  // 1
    {"AES256", "SHA1", 0},              // 2
    {"3DES", "SHA1", 0},                // 3
    {"AES256", "SHA256", 0},            // 4
    {"AES128", "SHA1", 0},              // 5
    {"3DES", "SHA256", 0},              // 6
    {"DES", "SHA1", 0},                 // 7
    {"AES256", "SHA1", 1},              // 8
    {"AES256", "SHA1", 2},              // 9
    {"AES256", "SHA1", 14},             // 10
    {"AES128", "SHA1", 1},              // 11
    {"AES128", "SHA1", 2},              // 12
    {"AES128", "SHA1", 14},             // 13
    {"3DES", "SHA1", 1},                // 14
    {"3DES", "SHA1", 2},                // 15
    {"3DES", "SHA256", 2},              // 16
    {"AES256", "SHA256", 1},            // 17
    {"AES256", "SHA256", 2},            // 18
    {"AES256", "SHA256", 14},           // 19
    {"AES256", "SHA1", 24},             // 20
    {"AES256", "SHA256", 24},           // 21
    {"AES128", "SHA256", 0},            // 22
    {"AES128", "SHA256", 1},            // 23
    {"AES128", "SHA256", 2},            // 24
    {"AES128", "SHA256", 14},           // 25
    {"3DES", "SHA1", 14},               // 26
}};

std::string ike_cipher(IkeEncryption e) {
  switch (e) {
    case IkeEncryption::DES: return "des";
    case IkeEncryption::DES3: return "3des";
    case IkeEncryption::AES128: return "aes128";
    case IkeEncryption::AES192: return "aes192";
    case IkeEncryption::AES256: return "aes256";
    case IkeEncryption::GCMAES128: return "aes128gcm16";
    case IkeEncryption::GCMAES256: return "aes256gcm16";
  }
  return "";
}

std::string ike_hash(IkeIntegrity i) {
  switch (i) {
    case IkeIntegrity::MD5: return "md5";
    case IkeIntegrity::SHA1: return "sha1";
    case IkeIntegrity::SHA256: return "sha256";
    case IkeIntegrity::SHA384: return "sha384";
    case IkeIntegrity::GCMAES128:
    case IkeIntegrity::GCMAES256: return "";
  }
  return "";
}

int group_number(DhGroup g) {
  switch (g) {
    case DhGroup::None: return 0;
    case DhGroup::DHGroup1: return 1;
    case DhGroup::DHGroup2: return 2;
    case DhGroup::DHGroup14:
    case DhGroup::DHGroup2048: return 14;
    case DhGroup::ECP256: return 19;
    case DhGroup::ECP384: return 20;
    case DhGroup::DHGroup24: return 24;
  }
  return 0;
}

// PFS14 and PFSMM are in the REST enum but not in Azure's table; the lab
// takes the Windows IPsec API's meaning (group 14; the main-mode group).
int group_number(PfsGroup g, DhGroup main_mode) {
  switch (g) {
    case PfsGroup::None: return 0;
    case PfsGroup::PFS1: return 1;
    case PfsGroup::PFS2: return 2;
    case PfsGroup::PFS2048:
    case PfsGroup::PFS14: return 14;
    case PfsGroup::ECP256: return 19;
    case PfsGroup::ECP384: return 20;
    case PfsGroup::PFS24: return 24;
    case PfsGroup::PFSMM: return group_number(main_mode);
  }
  return 0;
}

std::string esp_cipher(IpsecEncryption e) {
  switch (e) {
    case IpsecEncryption::None: return "null";
    case IpsecEncryption::DES: return "des";
    case IpsecEncryption::DES3: return "3des";
    case IpsecEncryption::AES128: return "aes128";
    case IpsecEncryption::AES192: return "aes192";
    case IpsecEncryption::AES256: return "aes256";
    case IpsecEncryption::GCMAES128: return "aes128gcm16";
    case IpsecEncryption::GCMAES192: return "aes192gcm16";
    case IpsecEncryption::GCMAES256: return "aes256gcm16";
  }
  return "";
}

std::string esp_hash(IpsecIntegrity i) {
  switch (i) {
    case IpsecIntegrity::MD5: return "md5";
    case IpsecIntegrity::SHA1: return "sha1";
    case IpsecIntegrity::SHA256: return "sha256";
    case IpsecIntegrity::GCMAES128:
    case IpsecIntegrity::GCMAES192:
    case IpsecIntegrity::GCMAES256: return "";
  }
  return "";
}

}  // namespace

std::span<const IkeOffer> default_ike_offers() { return kIkeOffers; }

std::span<const QuickModeOffer> default_quick_mode_offers_as_initiator() {
  return std::span<const QuickModeOffer>(kQuickModeOffers).first(6);
}

std::span<const QuickModeOffer> default_quick_mode_offers_as_responder() { return kQuickModeOffers; }

std::string strongswan_proposal(const IkeOffer& offer) {
  return joined({cipher_keyword(offer.encryption), hash_keyword(offer.integrity), group_keyword(offer.dh_group)});
}

std::string strongswan_proposal(const QuickModeOffer& offer) {
  return joined({cipher_keyword(offer.encryption), hash_keyword(offer.integrity), group_keyword(offer.pfs_group)});
}

std::string custom_ike_proposal(const policy::IpsecPolicy& p) {
  // "If IKEv2 Encryption algorithm specified is GCM*, the value passed in
  // IKEv2 Integrity is used for PRF only": strongSwan's prf<hash>.
  std::string hash = ike_hash(p.ike_integrity);
  if (policy::is_gcm(p.ike_encryption) && !hash.empty()) hash = "prf" + hash;
  return joined({ike_cipher(p.ike_encryption), hash, group_keyword(group_number(p.dh_group))});
}

std::string custom_esp_proposal(const policy::IpsecPolicy& p) {
  return joined({esp_cipher(p.ipsec_encryption), esp_hash(p.ipsec_integrity),
                 group_keyword(group_number(p.pfs_group, p.dh_group))});
}

}  // namespace ergw::azure_lab
