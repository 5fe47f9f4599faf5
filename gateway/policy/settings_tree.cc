#include "gateway/policy/settings_tree.h"

namespace ergw::policy {

SettingsSection& SettingsSection::section(std::string child_name, std::string child_comment) {
  sections.push_back(SettingsSection{std::move(child_name), {}, {}, std::move(child_comment)});
  return sections.back();
}

void SettingsSection::set(std::string key, std::string value, std::string why) {
  values.push_back({std::move(key), std::move(value), std::move(why)});
}

void SettingsSection::set_list(std::string key, std::vector<std::string> list, std::string why) {
  values.push_back({std::move(key), std::move(list), std::move(why)});
}

void SettingsSection::set_secret(std::string key, Secret secret) {
  values.push_back({std::move(key), std::move(secret), {}});
}

namespace {

std::string seconds(int64_t value) { return std::to_string(value) + "s"; }

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

void add_child(SettingsSection& children, const ChildConfig& c) {
  auto& s = children.section(c.name, join_lines(c.comments));
  s.set("mode", c.mode);
  s.set_list("esp_proposals", c.esp_proposals);
  s.set_list("local_ts", c.local_ts);
  s.set_list("remote_ts", c.remote_ts);
  s.set("rekey_time", seconds(c.rekey_time));
  s.set("life_time", seconds(c.life_time));
  s.set("rand_time", seconds(c.rand_time));
  s.set("rekey_bytes", std::to_string(c.rekey_bytes));
  s.set("life_bytes", std::to_string(c.life_bytes));
  s.set("dpd_action", c.dpd_action);
  s.set("start_action", c.start_action);
  s.set("close_action", c.close_action);
  if (c.if_id != 0) {
    s.set("if_id_in", std::to_string(c.if_id));
    s.set("if_id_out", std::to_string(c.if_id));
  }
}

}  // namespace

SettingsSection to_settings(const IkeConnectionConfig& c) {
  SettingsSection s{c.name, {}, {}, join_lines(c.comments)};
  s.set("version", std::to_string(c.version));
  s.set_list("local_addrs", c.local_addrs);
  s.set_list("remote_addrs", c.remote_addrs);
  s.set_list("proposals", c.proposals);
  s.set("rekey_time", seconds(c.rekey_time));
  s.set("over_time", seconds(c.over_time));
  s.set("rand_time", seconds(c.rand_time));
  s.set("reauth_time", seconds(c.reauth_time));
  s.set("dpd_delay", seconds(c.dpd_delay));
  s.set("keyingtries", std::to_string(c.keyingtries));
  s.set("mobike", c.mobike ? "yes" : "no");
  s.set("unique", c.unique);
  s.set("fragmentation", c.fragmentation);
  auto& local = s.section("local");
  local.set("auth", "psk");
  local.set("id", c.local_id);
  auto& remote = s.section("remote");
  remote.set("auth", "psk");
  remote.set("id", c.remote_id);
  auto& children = s.section("children");
  for (const auto& child : c.children) add_child(children, child);
  return s;
}

SettingsSection to_vici_shared(const SharedSecretConfig& secret) {
  SettingsSection s{secret.name, {}, {}, {}};
  s.set("id", secret.name);
  s.set("type", "IKE");
  s.set_secret("data", secret.secret);
  s.set_list("owners", secret.owners);
  return s;
}

SettingsSection to_swanctl_secret(const SharedSecretConfig& secret) {
  SettingsSection s{secret.name, {}, {}, {}};
  for (size_t i = 0; i < secret.owners.size(); ++i) s.set("id-" + std::to_string(i + 1), secret.owners[i]);
  s.set_secret("secret", secret.secret);
  return s;
}

}  // namespace ergw::policy
