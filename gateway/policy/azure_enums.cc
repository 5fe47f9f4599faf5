#include "gateway/policy/azure_enums.h"

namespace ergw::policy {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_gcm(IkeEncryption v) { return v == IkeEncryption::GCMAES128 || v == IkeEncryption::GCMAES256; }
bool is_gcm(IkeIntegrity v) { return v == IkeIntegrity::GCMAES128 || v == IkeIntegrity::GCMAES256; }
bool is_gcm(IpsecEncryption v) {
  return v == IpsecEncryption::GCMAES128 || v == IpsecEncryption::GCMAES192 || v == IpsecEncryption::GCMAES256;
}
bool is_gcm(IpsecIntegrity v) {
  return v == IpsecIntegrity::GCMAES128 || v == IpsecIntegrity::GCMAES192 || v == IpsecIntegrity::GCMAES256;
}

// Azure's table of names to groups (docs/azure-facts.md, "Diffie-Hellman groups").
int ike_group_number(DhGroup group) {
  switch (group) {
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

// PFS14 is not in Azure's table; the Windows IPsec API defines it as group 14
// (docs/azure-facts.md), which is what ergw assumes (and warns about).
int ike_group_number(PfsGroup group) {
  switch (group) {
    case PfsGroup::None:
    case PfsGroup::PFSMM: return 0;
    case PfsGroup::PFS1: return 1;
    case PfsGroup::PFS2: return 2;
    case PfsGroup::PFS2048:
    case PfsGroup::PFS14: return 14;
    case PfsGroup::ECP256: return 19;
    case PfsGroup::ECP384: return 20;
    case PfsGroup::PFS24: return 24;
  }
  return 0;
}

}  // namespace ergw::policy
