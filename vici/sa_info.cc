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

  // A state name; unknown names are an error naming the allowed ones.
  template <typename State>
  State required_state(std::string_view key, std::optional<State> (*parse)(std::string_view),
                       std::string (*allowed)()) {
    const std::string name = required_text(key);
    if (name.empty()) return State{};
    std::optional<State> state = parse(name);
    if (!state && !error_) {
      error_ = "key '" + std::string(key) + "' has the unknown value '" + name + "' (charon 5.9.8 uses " +
               allowed() + ")";
    }
    return state.value_or(State{});
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
    return Error{context_ + ": " + *error_, ErrorCode::malformed};
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
  child.state = r.required_state<ChildSaState>("state", &parse_child_sa_state, &allowed_child_sa_states);
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

namespace {

// The IKE SA's own fields, without its CHILD SAs.
Result<IkeSaInfo> parse_ike_fields(std::string_view name, const Section& section) {
  FieldReader r(section, "IKE_SA '" + std::string(name) + "'");
  IkeSaInfo ike;
  ike.name = std::string(name);
  ike.uniqueid = r.required_number<uint64_t>("uniqueid");
  ike.version = r.number<uint32_t>("version").value_or(0);
  ike.state = r.required_state<IkeSaState>("state", &parse_ike_sa_state, &allowed_ike_sa_states);
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
  return ike;
}

}  // namespace

Result<IkeSaInfo> parse_ike_sa(std::string_view name, const Section& section) {
  Result<IkeSaInfo> fields = parse_ike_fields(name, section);
  if (!fields) return fields.failure();
  IkeSaInfo ike = std::move(fields.value());
  Field<const Section*> children = section.get_section("child-sas");
  if (!children && children.error() != FieldError::missing) {
    return Error{"IKE_SA '" + ike.name + "': " + children.message(), ErrorCode::malformed};
  }
  if (children) {
    for (const Section::Entry& entry : (*children)->entries()) {
      if (entry.kind() != Section::Kind::section) {
        return Error{"IKE_SA '" + ike.name + "': child-sas entry '" + entry.name +
                     "' is not a section", ErrorCode::malformed};
      }
      Result<ChildSaInfo> child = parse_child_sa(entry.name, std::get<Section>(entry.value));
      if (!child) return child.failure().prefixed("IKE_SA '" + ike.name + "': ");
      ike.child_sas.push_back(std::move(*child));
    }
  }
  return ike;
}

Result<std::vector<IkeSaInfo>> parse_list_sa_event(const Message& event) {
  std::vector<IkeSaInfo> out;
  for (const Section::Entry& entry : event.entries()) {
    if (entry.kind() != Section::Kind::section) {
      return Error{"list-sa: entry '" + entry.name + "' is not a section", ErrorCode::malformed};
    }
    Result<IkeSaInfo> ike = parse_ike_sa(entry.name, std::get<Section>(entry.value));
    if (!ike) return ike.failure();
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
      return Error{"updown event: expected one IKE_SA section", ErrorCode::malformed};
    }
    sa = &entry;
  }
  if (sa == nullptr) return Error{"updown event: no IKE_SA section", ErrorCode::malformed};
  Field<bool> up = event.get_bool("up");
  if (!up && up.error() != FieldError::missing) return Error{"updown event: " + up.message(), ErrorCode::malformed};
  out.up = up.value_or(false);
  Result<IkeSaInfo> ike = parse_ike_sa(sa->name, std::get<Section>(sa->value));
  if (!ike) return ike.failure();
  out.ike_sa = std::move(*ike);
  return out;
}

namespace {

// The one section an event about one IKE SA carries (`<ike-name> = {...}`),
// after the optional `up` flag.
Result<const Section::Entry*> single_ike_section(const Message& event, std::string_view what) {
  const Section::Entry* sa = nullptr;
  for (const Section::Entry& entry : event.entries()) {
    if (entry.name == "up") continue;
    if (entry.kind() != Section::Kind::section || sa != nullptr) {
      return Error{std::string(what) + ": expected one IKE_SA section", ErrorCode::malformed};
    }
    sa = &entry;
  }
  if (sa == nullptr) return Error{std::string(what) + ": no IKE_SA section", ErrorCode::malformed};
  return sa;
}

Result<const Section*> subsection(const Section& section, std::string_view key, std::string_view what) {
  Field<const Section*> found = section.get_section(key);
  if (!found) return Error{std::string(what) + ": " + found.message(), ErrorCode::malformed};
  return *found;
}

}  // namespace

Result<IkeRekeyEvent> parse_ike_rekey_event(const Message& event) {
  Result<const Section::Entry*> entry = single_ike_section(event, "ike-rekey event");
  if (!entry) return entry.failure();
  const Section& body = std::get<Section>((*entry)->value);
  IkeRekeyEvent out;
  out.name = (*entry)->name;
  for (auto [key, target] : {std::pair{"old", &out.old_sa}, std::pair{"new", &out.new_sa}}) {
    Result<const Section*> sa = subsection(body, key, "ike-rekey event");
    if (!sa) return sa.failure();
    Result<IkeSaInfo> parsed = parse_ike_sa(out.name, **sa);
    if (!parsed) return parsed.failure().prefixed("ike-rekey event: " + std::string(key) + ": ");
    *target = std::move(parsed.value());
  }
  return out;
}

Result<ChildRekeyEvent> parse_child_rekey_event(const Message& event) {
  Result<const Section::Entry*> entry = single_ike_section(event, "child-rekey event");
  if (!entry) return entry.failure();
  const Section& body = std::get<Section>((*entry)->value);
  Result<IkeSaInfo> ike = parse_ike_fields((*entry)->name, body);
  if (!ike) return ike.failure().prefixed("child-rekey event: ");
  Result<const Section*> children = subsection(body, "child-sas", "child-rekey event");
  if (!children) return children.failure();
  if ((*children)->entries().size() != 1 || (*children)->entries().front().kind() != Section::Kind::section) {
    return Error{"child-rekey event: expected one CHILD_SA section", ErrorCode::malformed};
  }
  const Section::Entry& child = (*children)->entries().front();
  ChildRekeyEvent out;
  out.ike_name = ike->name;
  out.ike_uniqueid = ike->uniqueid;
  for (auto [key, target] : {std::pair{"old", &out.old_sa}, std::pair{"new", &out.new_sa}}) {
    Result<const Section*> sa = subsection(std::get<Section>(child.value), key, "child-rekey event");
    if (!sa) return sa.failure();
    Result<ChildSaInfo> parsed = parse_child_sa(child.name, **sa);
    if (!parsed) return parsed.failure().prefixed("child-rekey event: " + std::string(key) + ": ");
    *target = std::move(parsed.value());
  }
  return out;
}

Result<std::vector<ConnInfo>> parse_list_conn_event(const Message& event) {
  std::vector<ConnInfo> out;
  for (const Section::Entry& entry : event.entries()) {
    if (entry.kind() != Section::Kind::section) {
      return Error{"list-conn: entry '" + entry.name + "' is not a section", ErrorCode::malformed};
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
