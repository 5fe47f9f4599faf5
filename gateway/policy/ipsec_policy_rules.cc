// The rules of a custom IPsec/IKE policy: Azure's combination rules (errors)
// and what Azure accepts but a careful engineer would not (warnings with a
// fix). Each rule runs when the fields it needs were given and valid, so an
// invalid value elsewhere in the policy hides nothing.
// Facts: docs/azure-facts.md, "Custom IPsec/IKE policy".
#include <optional>

#include "gateway/policy/azure_rules.h"

namespace ergw::policy {
namespace {

template <typename E>
std::string quoted(E value) {
  return "\"" + std::string(enum_name(value)) + "\"";
}

// Azure's GCM rule: when either IPsec field is GCM, both must be the same
// GCMAES value (the PowerShell cmdlet throws unless they are equal).
void check_gcm_pairing(const IpsecPolicyInput& p, const std::string& path, Diagnostics& d) {
  if (!p.ipsec_encryption || !p.ipsec_integrity) return;
  if ((is_gcm(*p.ipsec_encryption) || is_gcm(*p.ipsec_integrity)) &&
      enum_name(*p.ipsec_encryption) != enum_name(*p.ipsec_integrity)) {
    d.error(field_path(path, "ipsecIntegrity"),
            quoted(*p.ipsec_integrity) + " does not match ipsecEncryption " + quoted(*p.ipsec_encryption) +
                "; with GCM, Azure requires the same GCMAES algorithm and key length for both (e.g. GCMAES256 "
                "and GCMAES256)");
  }
}

// Azure uses ikeIntegrity as the PRF; with GCM encryption as the PRF only. A
// GCM value there leaves IKE without a PRF to derive keys with.
void check_ike_prf(const IpsecPolicyInput& p, const std::string& path, Diagnostics& d) {
  if (!p.ike_integrity || !is_gcm(*p.ike_integrity)) return;
  const std::string where = field_path(path, "ikeIntegrity");
  if (p.ike_encryption && (!is_gcm(*p.ike_encryption) || enum_name(*p.ike_encryption) != enum_name(*p.ike_integrity))) {
    d.error(where, quoted(*p.ike_integrity) + " is only meaningful with ikeEncryption " + quoted(*p.ike_integrity) +
                       "; allowed with " + std::string(enum_name(*p.ike_encryption)) + ": MD5, SHA1, SHA256, SHA384");
  } else {
    d.error(where, quoted(*p.ike_integrity) +
                       " leaves IKE without a PRF: Azure uses ikeIntegrity as the PRF when ikeEncryption is GCM, "
                       "and its current documentation lists SHA384, SHA256, SHA1, MD5 there; allowed: SHA384, "
                       "SHA256, SHA1, MD5");
  }
}

void check_ike_group(const IpsecPolicyInput& p, const std::string& path, Diagnostics& d) {
  if (p.dh_group == DhGroup::None) {
    d.error(field_path(path, "dhGroup"), "\"None\" cannot key IKEv2: IKE_SA_INIT always carries a key exchange; "
                                         "allowed: DHGroup1, DHGroup2, DHGroup14, DHGroup2048, ECP256, ECP384, "
                                         "DHGroup24");
  }
}

// Weak algorithms Azure still accepts: warnings, each with a fix.
void check_weak_algorithms(const IpsecPolicyInput& p, const std::string& path, Diagnostics& d) {
  auto weak = [&](const char* name, const std::string& value, const std::string& why, const std::string& fix) {
    d.warning(field_path(path, name), value + " " + why, fix);
  };
  if (p.ike_encryption == IkeEncryption::DES || p.ike_encryption == IkeEncryption::DES3) {
    weak("ikeEncryption", quoted(*p.ike_encryption), "is a 64-bit block cipher (DES is also broken)",
         "use GCMAES256 or AES256");
  }
  if (p.ipsec_encryption == IpsecEncryption::DES || p.ipsec_encryption == IpsecEncryption::DES3) {
    weak("ipsecEncryption", quoted(*p.ipsec_encryption),
         "is a 64-bit block cipher (DES is also broken); Azure also measures it at a fifth of GCM's throughput",
         "use GCMAES256 for both ipsecEncryption and ipsecIntegrity");
  }
  if (p.ipsec_encryption == IpsecEncryption::None) {
    weak("ipsecEncryption", "\"None\"", "sends the traffic unencrypted (ESP NULL): integrity only",
         "use GCMAES256 for both ipsecEncryption and ipsecIntegrity");
  }
  if (p.ike_integrity == IkeIntegrity::MD5 || p.ike_integrity == IkeIntegrity::SHA1) {
    weak("ikeIntegrity", quoted(*p.ike_integrity), "is a deprecated hash for IKE integrity and PRF",
         "use SHA384 or SHA256");
  }
  if (p.ipsec_integrity == IpsecIntegrity::MD5 || p.ipsec_integrity == IpsecIntegrity::SHA1) {
    weak("ipsecIntegrity", quoted(*p.ipsec_integrity), "is a deprecated hash",
         "use SHA256, or GCMAES256 with GCMAES256 encryption");
  }
  if (p.dh_group == DhGroup::DHGroup1 || p.dh_group == DhGroup::DHGroup2) {
    weak("dhGroup", quoted(*p.dh_group), "is a 768/1024-bit MODP group, breakable today",
         "use ECP384, ECP256, DHGroup24 or DHGroup14");
  }
  if (p.pfs_group == PfsGroup::PFS1 || p.pfs_group == PfsGroup::PFS2) {
    weak("pfsGroup", quoted(*p.pfs_group), "is a 768/1024-bit MODP group, breakable today",
         "use ECP384, ECP256, PFS24 or PFS2048");
  }
}

// Azure documents neither PFS14 nor PFSMM; the Windows IPsec API defines them.
// A guess that differs from Azure's shows only at the first CHILD rekey, when
// the tunnel that came up dies.
void check_undocumented_pfs(const IpsecPolicyInput& p, const std::string& path, Diagnostics& d) {
  if (p.pfs_group != PfsGroup::PFS14 && p.pfs_group != PfsGroup::PFSMM) return;
  const bool pfs14 = p.pfs_group == PfsGroup::PFS14;
  d.warning(field_path(path, "pfsGroup"),
            quoted(*p.pfs_group) + " is not documented by Azure; ergw assumes the Windows meaning (" +
                (pfs14 ? "DH group 14, modp2048" : "the same group as dhGroup") +
                "). If Azure's side means otherwise, the tunnel comes up and dies at the first CHILD SA rekey",
            pfs14 ? "use PFS2048 (the documented name for group 14)"
                  : "name the group explicitly (e.g. ECP384 or PFS2048)");
}

}  // namespace

void check_ipsec_policy(const IpsecPolicyInput& policy, const std::string& path, Diagnostics& diagnostics) {
  check_gcm_pairing(policy, path, diagnostics);
  check_ike_prf(policy, path, diagnostics);
  check_ike_group(policy, path, diagnostics);
  check_weak_algorithms(policy, path, diagnostics);
  check_undocumented_pfs(policy, path, diagnostics);
}

}  // namespace ergw::policy
