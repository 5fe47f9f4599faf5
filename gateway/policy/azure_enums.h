// The Azure enums of a VPN connection, spelled exactly as the ARM spec
// (Microsoft.Network virtualNetworkGateway.json, 2024-05-01) spells them, in
// the spec's order. Parsing accepts any letter case; printing always uses
// Azure's spelling. The values and their sources: docs/azure-facts.md.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ergw::policy {

enum class DhGroup { None, DHGroup1, DHGroup2, DHGroup14, DHGroup2048, ECP256, ECP384, DHGroup24 };
enum class IkeEncryption { DES, DES3, AES128, AES192, AES256, GCMAES256, GCMAES128 };
enum class IkeIntegrity { MD5, SHA1, SHA256, SHA384, GCMAES256, GCMAES128 };
enum class IpsecEncryption { None, DES, DES3, AES128, AES192, AES256, GCMAES128, GCMAES192, GCMAES256 };
enum class IpsecIntegrity { MD5, SHA1, SHA256, GCMAES128, GCMAES192, GCMAES256 };
enum class PfsGroup { None, PFS1, PFS2, PFS2048, ECP256, ECP384, PFS24, PFS14, PFSMM };
enum class ConnectionProtocol { IKEv2, IKEv1 };
enum class ConnectionMode { Default, ResponderOnly, InitiatorOnly };
enum class ConnectionType { IPsec, Vnet2Vnet, ExpressRoute, VPNClient };

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

template <typename E>
struct EnumTraits;

#define ERGW_ENUM_TRAITS(Type, ...)                                          \
  template <>                                                                \
  struct EnumTraits<Type> {                                                  \
    static constexpr auto names = std::to_array<EnumName<Type>>(__VA_ARGS__); \
  };

ERGW_ENUM_TRAITS(DhGroup, {{DhGroup::None, "None"},
                           {DhGroup::DHGroup1, "DHGroup1"},
                           {DhGroup::DHGroup2, "DHGroup2"},
                           {DhGroup::DHGroup14, "DHGroup14"},
                           {DhGroup::DHGroup2048, "DHGroup2048"},
                           {DhGroup::ECP256, "ECP256"},
                           {DhGroup::ECP384, "ECP384"},
                           {DhGroup::DHGroup24, "DHGroup24"}})
ERGW_ENUM_TRAITS(IkeEncryption, {{IkeEncryption::DES, "DES"},
                                 {IkeEncryption::DES3, "DES3"},
                                 {IkeEncryption::AES128, "AES128"},
                                 {IkeEncryption::AES192, "AES192"},
                                 {IkeEncryption::AES256, "AES256"},
                                 {IkeEncryption::GCMAES256, "GCMAES256"},
                                 {IkeEncryption::GCMAES128, "GCMAES128"}})
ERGW_ENUM_TRAITS(IkeIntegrity, {{IkeIntegrity::MD5, "MD5"},
                                {IkeIntegrity::SHA1, "SHA1"},
                                {IkeIntegrity::SHA256, "SHA256"},
                                {IkeIntegrity::SHA384, "SHA384"},
                                {IkeIntegrity::GCMAES256, "GCMAES256"},
                                {IkeIntegrity::GCMAES128, "GCMAES128"}})
ERGW_ENUM_TRAITS(IpsecEncryption, {{IpsecEncryption::None, "None"},
                                   {IpsecEncryption::DES, "DES"},
                                   {IpsecEncryption::DES3, "DES3"},
                                   {IpsecEncryption::AES128, "AES128"},
                                   {IpsecEncryption::AES192, "AES192"},
                                   {IpsecEncryption::AES256, "AES256"},
                                   {IpsecEncryption::GCMAES128, "GCMAES128"},
                                   {IpsecEncryption::GCMAES192, "GCMAES192"},
                                   {IpsecEncryption::GCMAES256, "GCMAES256"}})
ERGW_ENUM_TRAITS(IpsecIntegrity, {{IpsecIntegrity::MD5, "MD5"},
                                  {IpsecIntegrity::SHA1, "SHA1"},
                                  {IpsecIntegrity::SHA256, "SHA256"},
                                  {IpsecIntegrity::GCMAES128, "GCMAES128"},
                                  {IpsecIntegrity::GCMAES192, "GCMAES192"},
                                  {IpsecIntegrity::GCMAES256, "GCMAES256"}})
ERGW_ENUM_TRAITS(PfsGroup, {{PfsGroup::None, "None"},
                            {PfsGroup::PFS1, "PFS1"},
                            {PfsGroup::PFS2, "PFS2"},
                            {PfsGroup::PFS2048, "PFS2048"},
                            {PfsGroup::ECP256, "ECP256"},
                            {PfsGroup::ECP384, "ECP384"},
                            {PfsGroup::PFS24, "PFS24"},
                            {PfsGroup::PFS14, "PFS14"},
                            {PfsGroup::PFSMM, "PFSMM"}})
ERGW_ENUM_TRAITS(ConnectionProtocol, {{ConnectionProtocol::IKEv2, "IKEv2"}, {ConnectionProtocol::IKEv1, "IKEv1"}})
ERGW_ENUM_TRAITS(ConnectionMode, {{ConnectionMode::Default, "Default"},
                                  {ConnectionMode::ResponderOnly, "ResponderOnly"},
                                  {ConnectionMode::InitiatorOnly, "InitiatorOnly"}})
ERGW_ENUM_TRAITS(ConnectionType, {{ConnectionType::IPsec, "IPsec"},
                                  {ConnectionType::Vnet2Vnet, "Vnet2Vnet"},
                                  {ConnectionType::ExpressRoute, "ExpressRoute"},
                                  {ConnectionType::VPNClient, "VPNClient"}})
#undef ERGW_ENUM_TRAITS

bool equals_ignoring_case(std::string_view a, std::string_view b);

template <typename E>
std::optional<E> parse_enum(std::string_view text) {
  for (const auto& entry : EnumTraits<E>::names) {
    if (equals_ignoring_case(entry.name, text)) return entry.value;
  }
  return std::nullopt;
}

template <typename E>
std::string_view enum_name(E value) {
  for (const auto& entry : EnumTraits<E>::names) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

// "None, DHGroup1, ..." in the spec's order, for error messages.
template <typename E>
std::string allowed_values() {
  std::string out;
  for (const auto& entry : EnumTraits<E>::names) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

// True for the GCM members of any of the algorithm enums.
bool is_gcm(IkeEncryption value);
bool is_gcm(IkeIntegrity value);
bool is_gcm(IpsecEncryption value);
bool is_gcm(IpsecIntegrity value);

// The IANA IKE group number (RFC 3526/5114/5903) of a DH or PFS group, 0 for
// None; PFSMM has no number of its own (it follows the IKE group).
int ike_group_number(DhGroup group);
int ike_group_number(PfsGroup group);

}  // namespace ergw::policy
