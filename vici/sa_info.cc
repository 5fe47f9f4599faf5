#include "vici/sa_info.h"

#include <limits>

namespace ergw::vici {

namespace {

// Reads optional fields, remembering the first malformed one: a present but
// garbled number is an error, an absent one is not.
class FieldReader {
 public:
  FieldReader(const Section& section, std::string context)
      : section_(section), context_(std::move(context)) {}

  std::string text(std::string_view key) {
    Field<std::string_view> field = section_.get_string(key);
    if (!field) {
      note(field.error(), field.message());
      return {};
    }
    return std::string(*field);
  }

  template <typename T>
  std::optional<T> number(std::string_view key) {
    Field<uint64_t> field = section_.get_uint(key);
    if (!field) {
      note(field.error(), field.message());
      return std::nullopt;
    }
    if (*field > std::numeric_limits<T>::max()) {
      note(FieldError::malformed, "key '" + std::string(key) + "' is out of range");
      return std::nullopt;
    }
    return static_cast<T>(*field);
  }

  template <typename T>
  T required_number(std::string_view key) {
    std::optional<T> value = number<T>(key);
    if (!value && !error_) error_ = "key '" + std::string(key) + "' is missing";
    return value.value_or(T{});
  }

  std::string required_text(std::string_view key) {
    if (!section_.contains(key) && !error_) error_ = "key '" + std::string(key) + "' is missing";
    return text(key);
  }

  bool flag(std::string_view key) {
    Field<bool> field = section_.get_bool(key);
    if (!field) {
      note(field.error(), field.message());
      return false;
    }
    return *field;
  }

  std::vector<std::string> list(std::string_view key) {
    Field<const List*> field = section_.get_list(key);
    if (!field) {
      note(field.error(), field.message());
      return {};
    }
    return **field;
  }

  std::optional<Error> error() const {
    if (!error_) return std::nullopt;
    return Error{context_ + ": " + *error_};
  }

 private:
  void note(FieldError kind, const std::string& message) {
    if (kind != FieldError::missing && !error_) error_ = message;
  }

  const Section& section_;
  std::string context_;
  std::optional<std::string> error_;
};

}  // namespace

Result<ChildSaInfo> parse_child_sa(std::string_view key, const Section& section) {
  FieldReader r(section, "CHILD_SA '" + std::string(key) + "'");
  ChildSaInfo child;
  child.key = std::string(key);
  child.name = r.required_text("name");
  child.uniqueid = r.required_number<uint64_t>("uniqueid");
  child.reqid = r.number<uint32_t>("reqid").value_or(0);
  child.state = r.required_text("state");
  child.mode = r.text("mode");
  child.protocol = r.text("protocol");
  child.encap = r.flag("encap");
  child.spi_in = r.text("spi-in");
  child.spi_out = r.text("spi-out");
  child.encr_alg = r.text("encr-alg");
  child.encr_keysize = r.number<uint32_t>("encr-keysize");
  child.integ_alg = r.text("integ-alg");
  child.integ_keysize = r.number<uint32_t>("integ-keysize");
  child.dh_group = r.text("dh-group");
  child.esn = r.flag("esn");
  child.bytes_in = r.number<uint64_t>("bytes-in").value_or(0);
  child.packets_in = r.number<uint64_t>("packets-in").value_or(0);
  child.bytes_out = r.number<uint64_t>("bytes-out").value_or(0);
  child.packets_out = r.number<uint64_t>("packets-out").value_or(0);
  child.use_in = r.number<uint64_t>("use-in");
  child.use_out = r.number<uint64_t>("use-out");
  child.install_time = r.number<uint64_t>("install-time");
  child.rekey_time = r.number<uint64_t>("rekey-time");
  child.life_time = r.number<uint64_t>("life-time");
  child.local_ts = r.list("local-ts");
  child.remote_ts = r.list("remote-ts");
  if (auto error = r.error()) return *error;
  return child;
}

Result<IkeSaInfo> parse_ike_sa(std::string_view name, const Section& section) {
  FieldReader r(section, "IKE_SA '" + std::string(name) + "'");
  IkeSaInfo ike;
  ike.name = std::string(name);
  ike.uniqueid = r.required_number<uint64_t>("uniqueid");
  ike.version = r.number<uint32_t>("version").value_or(0);
  ike.state = r.required_text("state");
  ike.local_host = r.text("local-host");
  ike.local_port = r.number<uint16_t>("local-port");
  ike.local_id = r.text("local-id");
  ike.remote_host = r.text("remote-host");
  ike.remote_port = r.number<uint16_t>("remote-port");
  ike.remote_id = r.text("remote-id");
  ike.initiator = r.flag("initiator");
  ike.initiator_spi = r.text("initiator-spi");
  ike.responder_spi = r.text("responder-spi");
  ike.encr_alg = r.text("encr-alg");
  ike.encr_keysize = r.number<uint32_t>("encr-keysize");
  ike.integ_alg = r.text("integ-alg");
  ike.integ_keysize = r.number<uint32_t>("integ-keysize");
  ike.prf_alg = r.text("prf-alg");
  ike.dh_group = r.text("dh-group");
  ike.established = r.number<uint64_t>("established");
  ike.rekey_time = r.number<uint64_t>("rekey-time");
  ike.reauth_time = r.number<uint64_t>("reauth-time");
  if (auto error = r.error()) return *error;

  Field<const Section*> children = section.get_section("child-sas");
  if (!children && children.error() != FieldError::missing) {
    return Error{"IKE_SA '" + ike.name + "': " + children.message()};
  }
  if (children) {
    for (const Section::Entry& entry : (*children)->entries()) {
      if (entry.kind() != Section::Kind::section) {
        return Error{"IKE_SA '" + ike.name + "': child-sas entry '" + entry.name +
                     "' is not a section"};
      }
      Result<ChildSaInfo> child = parse_child_sa(entry.name, std::get<Section>(entry.value));
      if (!child) return Error{"IKE_SA '" + ike.name + "': " + child.error()};
      ike.child_sas.push_back(std::move(*child));
    }
  }
  return ike;
}

Result<std::vector<IkeSaInfo>> parse_list_sa_event(const Message& event) {
  std::vector<IkeSaInfo> out;
  for (const Section::Entry& entry : event.entries()) {
    if (entry.kind() != Section::Kind::section) {
      return Error{"list-sa: entry '" + entry.name + "' is not a section"};
    }
    Result<IkeSaInfo> ike = parse_ike_sa(entry.name, std::get<Section>(entry.value));
    if (!ike) return Error{ike.error()};
    out.push_back(std::move(*ike));
  }
  return out;
}

Result<UpDownEvent> parse_updown_event(const Message& event) {
  UpDownEvent out;
  const Section::Entry* sa = nullptr;
  for (const Section::Entry& entry : event.entries()) {
    if (entry.name == "up") continue;
    if (entry.kind() != Section::Kind::section || sa != nullptr) {
      return Error{"updown event: expected one IKE_SA section"};
    }
    sa = &entry;
  }
  if (sa == nullptr) return Error{"updown event: no IKE_SA section"};
  Field<bool> up = event.get_bool("up");
  if (!up && up.error() != FieldError::missing) return Error{"updown event: " + up.message()};
  out.up = up.value_or(false);
  Result<IkeSaInfo> ike = parse_ike_sa(sa->name, std::get<Section>(sa->value));
  if (!ike) return Error{ike.error()};
  out.ike_sa = std::move(*ike);
  return out;
}

Result<std::vector<ConnInfo>> parse_list_conn_event(const Message& event) {
  std::vector<ConnInfo> out;
  for (const Section::Entry& entry : event.entries()) {
    if (entry.kind() != Section::Kind::section) {
      return Error{"list-conn: entry '" + entry.name + "' is not a section"};
    }
    const Section& section = std::get<Section>(entry.value);
    FieldReader r(section, "connection '" + entry.name + "'");
    ConnInfo conn;
    conn.name = entry.name;
    conn.local_addrs = r.list("local_addrs");
    conn.remote_addrs = r.list("remote_addrs");
    conn.version = r.text("version");
    if (Field<const Section*> children = section.get_section("children")) {
      for (const Section::Entry& child : (*children)->entries()) conn.children.push_back(child.name);
    }
    if (auto error = r.error()) return *error;
    conn.raw = section;
    out.push_back(std::move(conn));
  }
  return out;
}

}  // namespace ergw::vici
