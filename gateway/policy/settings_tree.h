// SettingsSection: the ordered tree of sections, key/values and lists that
// both swanctl.conf and a vici message are made of. The compiler's typed
// configuration becomes one tree; swanctl_renderer prints it as swanctl.conf
// and ergwd turns the same tree into vici load-conn / load-shared messages, so
// both can never disagree.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "gateway/policy/secret.h"
#include "gateway/policy/strongswan_config.h"

namespace ergw::policy {

struct SettingsSection;

struct SettingsValue {
  std::string key;
  std::variant<std::string, std::vector<std::string>, Secret> value;  // value, list, or a secret
  std::string comment;
};

struct SettingsSection {
  std::string name;
  std::vector<SettingsValue> values;
  std::vector<SettingsSection> sections;
  std::string comment;

  SettingsSection& section(std::string child_name, std::string child_comment = {});
  void set(std::string key, std::string value, std::string why = {});
  void set_list(std::string key, std::vector<std::string> list, std::string why = {});
  void set_secret(std::string key, Secret secret);
};

// One load-conn message body: the connection section named after it.
SettingsSection to_settings(const IkeConnectionConfig& connection);
// One load-shared message body (the vici form: type, data, owners).
SettingsSection to_vici_shared(const SharedSecretConfig& secret);
// The swanctl.conf "secrets" entry.
SettingsSection to_swanctl_secret(const SharedSecretConfig& secret);

}  // namespace ergw::policy
