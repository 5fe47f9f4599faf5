#include "gateway/cli/config_commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "common/parse_json.h"
#include "gateway/cli/api_client.h"

namespace ergw::cli {
namespace {

struct Common {
  std::shared_ptr<ApiTarget> target = std::make_shared<ApiTarget>();
  bool json = false;
};

std::string text_of(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "-";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

// Prints a failed answer (every diagnostic, like `ergw policy check`) and
// returns the exit code: 2 for a configuration refused as invalid, else 1.
int report_failure(const std::string& what, const ApiResponse& r) {
  std::cerr << "ergw " << what << ": " << r.problem() << "\n";
  if (r.json && r.json->contains("diagnostics")) {
    for (const auto& d : (*r.json)["diagnostics"]) {
      std::cerr << text_of(d, "severity") << ": " << (d.value("path", "").empty() ? "" : d.value("path", "") + ": ")
                << text_of(d, "message") << "\n";
      if (d.contains("fix")) std::cerr << "  fix: " << text_of(d, "fix") << "\n";
    }
  }
  if (r.json && r.json->contains("connections")) {
    for (const auto& c : (*r.json)["connections"]) {
      std::cerr << "  " << text_of(c, "name") << ": " << text_of(c, "reason") << "\n";
    }
  }
  return r.status == 422 ? 2 : 1;
}

std::optional<ApiResponse> call(const Common& c, const std::string& what, const std::string& method,
                                 const std::string& path, const std::optional<nlohmann::json>& body = std::nullopt,
                                 const std::map<std::string, std::string>& headers = {}) {
  auto r = api_request(*c.target, method, path, body, headers);
  if (!r) {
    std::cerr << "ergw " << what << ": " << r.error() << "\n";
    return std::nullopt;
  }
  return std::move(r.value());
}

// A request whose answer is printed: the API's JSON with --json, else
// `print_text`'s rendering. The exit code: 0 when the status is `expected`.
int request_and_print(const Common& c, const std::string& what, const std::string& method, const std::string& path,
                      int expected, const std::function<void(const nlohmann::json&)>& print_text,
                      const std::optional<nlohmann::json>& body = std::nullopt) {
  auto r = call(c, what, method, path, body);
  if (!r) return 1;
  if (r->status != expected) return report_failure(what, *r);
  if (c.json) {
    std::cout << r->json->dump(2) << "\n";
  } else {
    print_text(*r->json);
  }
  return 0;
}

// The outcome of a write: what the revision did to each tunnel.
void print_apply(const nlohmann::json& body) {
  const auto result = body.value("result", "");
  if (result == "unchanged") {
    std::cout << "unchanged: revision " << text_of(body, "revision") << " is active already\n";
    return;
  }
  std::cout << "revision " << text_of(body, "revision") << " applied (was " << text_of(body, "previous") << ")\n";
  const auto apply = body.value("apply", nlohmann::json::object());
  for (const auto& c : apply.value("connections", nlohmann::json::array())) {
    if (c.value("change", "") == "unchanged") continue;
    std::cout << "  " << text_of(c, "name") << ": " << text_of(c, "change") << ", " << text_of(c, "state");
    if (c.contains("reason")) std::cout << " (" << text_of(c, "reason") << ")";
    std::cout << "\n";
    if (c.contains("hint")) std::cout << "    hint: " << text_of(c, "hint") << "\n";
  }
  if (apply.value("state", "") == "running") {
    std::cout << "  the tunnels are still coming up: ergw config revisions (or GET /v1/config/revisions/"
              << text_of(body, "revision") << ") shows the outcome\n";
  }
  if (apply.contains("note")) std::cout << "  note: " << text_of(apply, "note") << "\n";
  for (const auto& w : body.value("warnings", nlohmann::json::array())) {
    std::cout << "  " << text_of(w, "severity") << ": " << text_of(w, "path") << ": " << text_of(w, "message") << "\n";
  }
  if (body.contains("confirm")) {
    std::cout << "  CONFIRM by " << text_of(body["confirm"], "deadline")
              << " (ergw config confirm), or it rolls back to revision " << text_of(body, "previous") << "\n";
  }
}

// A configuration file as the API takes it: key files named in it are read
// here, on the operator's side, and sent inline over the API's TLS or local
// socket (the API refuses paths on the appliance).
// A key file's first line (a PSK or a BGP password), relative to the
// configuration file: read here, sent inline (the API refuses paths).
std::optional<std::string> read_key_file(const std::string& config_file, const std::string& name) {
  std::filesystem::path key_file = name;
  if (key_file.is_relative()) key_file = std::filesystem::path(config_file).parent_path() / key_file;
  std::ifstream key_in(key_file);
  std::string key;
  if (!key_in || !std::getline(key_in, key)) {
    std::cerr << "ergw config apply: cannot read the key file " << key_file.string() << "\n";
    return std::nullopt;
  }
  while (!key.empty() && (key.back() == '\r' || key.back() == '\n')) key.pop_back();
  return key;
}

std::optional<nlohmann::json> read_config_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "ergw config apply: cannot read " << file << "\n";
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  JsonSyntaxError error;
  auto document = parse_json(text, &error);
  if (!document) {
    std::cerr << "ergw config apply: " << file << " is not valid JSON (" << error.what << " at byte " << error.byte
              << ")\n";
    return std::nullopt;
  }
  if (document->is_object() && document->contains("connections") && (*document)["connections"].is_array()) {
    for (auto& c : (*document)["connections"]) {
      if (!c.is_object()) continue;
      if (c.contains("sharedKeyFile") && c["sharedKeyFile"].is_string()) {
        auto key = read_key_file(file, c["sharedKeyFile"].get<std::string>());
        if (!key) return std::nullopt;
        auto& azure = c["azure"];
        auto& fields = azure.is_object() && azure.contains("properties") ? azure["properties"] : azure;
        fields["sharedKey"] = *key;
        c.erase("sharedKeyFile");
      }
      if (c.contains("bgpPasswordFile") && c["bgpPasswordFile"].is_string()) {
        auto password = read_key_file(file, c["bgpPasswordFile"].get<std::string>());
        if (!password) return std::nullopt;
        c["bgpPassword"] = *password;
        c.erase("bgpPasswordFile");
      }
    }
  }
  return document;
}

std::string query(std::optional<int> confirm, std::optional<int> wait, const std::string& comment) {
  std::string q;
  auto add = [&q](const std::string& part) { q += (q.empty() ? "?" : "&") + part; };
  if (confirm) add("confirm=" + std::to_string(*confirm));
  if (wait) add("wait=" + std::to_string(*wait));
  if (!comment.empty()) {
    std::string encoded;
    for (unsigned char ch : comment) {
      if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
        encoded += static_cast<char>(ch);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof(hex), "%%%02X", ch);
        encoded += hex;
      }
    }
    add("comment=" + encoded);
  }
  return q;
}

// Writes answer 200 (settled) or 202 (tunnels still coming up).
int finish_write(const Common& c, const std::string& what, const ApiResponse& r) {
  if (r.status != 200 && r.status != 202) return report_failure(what, r);
  if (c.json) {
    std::cout << (r.json ? r.json->dump(2) : r.body) << "\n";
  } else if (r.json) {
    print_apply(*r.json);
  }
  return 0;
}

std::optional<std::string> active_etag(const Common& c, const std::string& what) {
  auto r = call(c, what, "GET", "/v1/config");
  if (!r) return std::nullopt;
  if (r->status != 200) {
    report_failure(what, *r);
    return std::nullopt;
  }
  return r->etag();
}

void print_diff(const nlohmann::json& body) {
  std::cout << "revision " << text_of(body, "to") << " against " << text_of(body, "from") << ":\n";
  for (const auto& change : body.value("changes", nlohmann::json::array())) {
    const auto kind = change.value("change", "");
    const auto path = text_of(change, "path");
    if (kind == "added") {
      std::cout << "+ " << path << ": " << change["to"].dump() << "\n";
    } else if (kind == "removed") {
      std::cout << "- " << path << ": " << change["from"].dump() << "\n";
    } else {
      std::cout << "~ " << path << ": " << change["from"].dump() << " -> " << change["to"].dump() << "\n";
    }
  }
  for (const auto& name : body.value("shared_keys_changed", nlohmann::json::array())) {
    std::cout << "~ connections[" << name.get<std::string>() << "]: PSK replaced (not shown)\n";
  }
  for (const auto& name : body.value("bgp_passwords_changed", nlohmann::json::array())) {
    std::cout << "~ connections[" << name.get<std::string>() << "]: BGP password set, replaced or removed (not shown)\n";
  }
  if (body.value("changes", nlohmann::json::array()).empty() &&
      body.value("shared_keys_changed", nlohmann::json::array()).empty() &&
      body.value("bgp_passwords_changed", nlohmann::json::array()).empty()) {
    std::cout << "  no differences\n";
  }
}

void print_revisions(const nlohmann::json& body) {
  const auto confirm = body.value("confirm", nlohmann::json::object());
  if (confirm.value("pending", false)) {
    std::cout << "revision " << text_of(confirm, "revision") << " waits for its confirmation until "
              << text_of(confirm, "deadline") << " (" << text_of(confirm, "seconds_left") << " s left)\n";
  }
  std::printf("%-5s %-10s %-20s %-22s %-10s %s\n", "REV", "STATE", "CREATED", "AUTHOR", "ORIGIN", "COMMENT / TUNNELS");
  for (const auto& r : body.value("revisions", nlohmann::json::array())) {
    std::string tunnels;
    if (r.contains("apply") && r["apply"].is_object()) {
      std::map<std::string, int> counts;
      for (const auto& c : r["apply"].value("connections", nlohmann::json::array())) counts[c.value("state", "")]++;
      for (const auto& [state, n] : counts) tunnels += (tunnels.empty() ? "" : ", ") + std::to_string(n) + " " + state;
    }
    std::string comment = r.value("comment", "");
    if (r.contains("reverted")) comment += (comment.empty() ? "" : "; ") + std::string("reverted: ") + text_of(r["reverted"], "why");
    std::printf("%-5s %-10s %-20s %-22s %-10s %s%s%s\n", text_of(r, "id").c_str(), text_of(r, "state").c_str(),
                text_of(r, "created").c_str(), text_of(r, "author").substr(0, 22).c_str(), text_of(r, "origin").c_str(),
                comment.c_str(), comment.empty() || tunnels.empty() ? "" : " ", tunnels.empty() ? "" : ("[" + tunnels + "]").c_str());
  }
}

}  // namespace

void add_config_commands(CLI::App& app, int& exit_code) {
  auto* config = app.add_subcommand("config", "The configuration's revisions, through ergwd's API");
  config->require_subcommand(1);
  // `ergw config revisions --socket X`: the subcommands hand the shared options up.
  config->fallthrough();
  auto c = std::make_shared<Common>();
  add_api_options(*config, c->target);
  config->add_flag("--json", c->json, "print the API's JSON answer");

  auto* show = config->add_subcommand("show", "Print the active configuration (PSKs are never shown)");
  show->callback([c, &exit_code] {
    auto r = call(*c, "config show", "GET", "/v1/config");
    if (!r) return void(exit_code = 1);
    if (r->status != 200) return void(exit_code = report_failure("config show", *r));
    if (!c->json) std::cerr << "# revision " << r->etag() << "\n";
    std::cout << (r->json ? r->json->dump(2) : r->body) << "\n";
    exit_code = 0;
  });

  auto apply_file = std::make_shared<std::string>();
  auto confirm = std::make_shared<std::optional<int>>();
  auto wait = std::make_shared<std::optional<int>>();
  auto comment = std::make_shared<std::string>();
  auto* apply = config->add_subcommand("apply", "Validate FILE on ergwd and make it the configuration (a revision)");
  apply->add_option("FILE", *apply_file, "ergw configuration file (sharedKeyFile is read here and sent inline)")
      ->required();
  apply->add_option("--confirm", *confirm, "roll back by itself unless `ergw config confirm` comes within SECONDS");
  apply->add_option("--wait", *wait, "wait up to SECONDS for the tunnels (default 30)");
  apply->add_option("--comment", *comment, "the revision's comment");
  apply->callback([c, apply_file, confirm, wait, comment, &exit_code] {
    auto document = read_config_file(*apply_file);
    if (!document) return void(exit_code = 1);
    auto etag = active_etag(*c, "config apply");
    if (!etag) return void(exit_code = 1);
    auto r = call(*c, "config apply", "PUT", "/v1/config" + query(*confirm, *wait, *comment), *document,
                  {{"If-Match", "\"" + *etag + "\""}});
    exit_code = r ? finish_write(*c, "config apply", *r) : 1;
  });

  auto* confirm_command = config->add_subcommand("confirm", "Keep the revision applied with --confirm");
  confirm_command->callback([c, &exit_code] {
    auto state = call(*c, "config confirm", "GET", "/v1/config/confirm");
    if (!state) return void(exit_code = 1);
    if (!state->json || !state->json->value("pending", false)) {
      std::cerr << "ergw config confirm: no revision waits for a confirmation\n";
      return void(exit_code = 1);
    }
    const auto revision = text_of(*state->json, "revision");
    auto r = call(*c, "config confirm", "POST", "/v1/config/confirm", std::nullopt,
                  {{"If-Match", "\"" + revision + "\""}});
    if (!r) return void(exit_code = 1);
    if (r->status != 200) return void(exit_code = report_failure("config confirm", *r));
    std::cout << (c->json ? r->json->dump(2) : "revision " + revision + " confirmed") << "\n";
    exit_code = 0;
  });

  auto against = std::make_shared<std::optional<int>>();
  auto* diff = config->add_subcommand("diff", "What the active revision changed (against its parent, or REV)");
  diff->add_option("REV", *against, "compare the active revision with this one");
  diff->callback([c, against, &exit_code] {
    auto etag = active_etag(*c, "config diff");
    if (!etag) return void(exit_code = 1);
    if (*etag == "0") {
      std::cerr << "ergw config diff: no configuration yet\n";
      return void(exit_code = 1);
    }
    exit_code = request_and_print(
        *c, "config diff", "GET",
        "/v1/config/revisions/" + *etag + "/diff" + (*against ? "?against=" + std::to_string(**against) : ""), 200,
        print_diff);
  });

  auto* revisions = config->add_subcommand("revisions", "The kept revisions, newest first");
  revisions->callback([c, &exit_code] {
    exit_code = request_and_print(*c, "config revisions", "GET", "/v1/config/revisions", 200, print_revisions);
  });

  auto target = std::make_shared<int>(0);
  auto rollback_confirm = std::make_shared<std::optional<int>>();
  auto* rollback = config->add_subcommand("rollback", "Make REV's configuration active again (as a new revision)");
  rollback->add_option("REV", *target, "the revision to return to")->required();
  rollback->add_option("--confirm", *rollback_confirm, "roll back by itself unless confirmed within SECONDS");
  rollback->callback([c, target, rollback_confirm, &exit_code] {
    auto etag = active_etag(*c, "config rollback");
    if (!etag) return void(exit_code = 1);
    auto r = call(*c, "config rollback", "POST",
                  "/v1/config/revisions/" + std::to_string(*target) + ":rollback" +
                      query(*rollback_confirm, std::nullopt, ""),
                  std::nullopt, {{"If-Match", "\"" + *etag + "\""}});
    exit_code = r ? finish_write(*c, "config rollback", *r) : 1;
  });
}

void add_apikey_commands(CLI::App& app, int& exit_code) {
  auto* keys = app.add_subcommand("apikey", "API keys for ergwd's management API");
  keys->require_subcommand(1);
  keys->fallthrough();
  auto c = std::make_shared<Common>();
  add_api_options(*keys, c->target);
  keys->add_flag("--json", c->json, "print the API's JSON answer");

  auto name = std::make_shared<std::string>();
  auto scope = std::make_shared<std::string>("read");
  auto* create = keys->add_subcommand("create", "Make a key; it is shown this once");
  create->add_option("NAME", *name, "who uses it (appears in the audit log and as revisions' author)")->required();
  create->add_option("--scope", *scope, "read (GET only) or admin (also writes)")
      ->check(CLI::IsMember({"read", "admin"}))
      ->capture_default_str();
  create->callback([c, name, scope, &exit_code] {
    exit_code = request_and_print(
        *c, "apikey create", "POST", "/v1/apikeys", 201,
        [&](const nlohmann::json& answer) {
          std::cout << text_of(answer, "key") << "\n";
          std::cerr << "API key \"" << *name << "\" (" << *scope << "); this is the only time it is shown\n";
        },
        nlohmann::json{{"name", *name}, {"scope", *scope}});
  });

  auto* list = keys->add_subcommand("list", "The keys' names and scopes (never the keys)");
  list->callback([c, &exit_code] {
    exit_code = request_and_print(*c, "apikey list", "GET", "/v1/apikeys", 200, [](const nlohmann::json& answer) {
      std::printf("%-24s %-6s %-21s %-22s %s\n", "NAME", "SCOPE", "CREATED", "BY", "REVOKED");
      for (const auto& k : answer.value("keys", nlohmann::json::array())) {
        std::printf("%-24s %-6s %-21s %-22s %s\n", text_of(k, "name").c_str(), text_of(k, "scope").c_str(),
                    text_of(k, "created").c_str(), text_of(k, "created_by").c_str(),
                    k.value("revoked", false) ? text_of(k, "revoked_at").c_str() : "-");
      }
    });
  });

  auto revoke_name = std::make_shared<std::string>();
  auto* revoke = keys->add_subcommand("revoke", "Revoke a key (at once)");
  revoke->add_option("NAME", *revoke_name)->required();
  revoke->callback([c, revoke_name, &exit_code] {
    auto r = call(*c, "apikey revoke", "DELETE", "/v1/apikeys/" + *revoke_name);
    if (!r) return void(exit_code = 1);
    if (r->status != 204) return void(exit_code = report_failure("apikey revoke", *r));
    std::cout << "revoked " << *revoke_name << "\n";
    exit_code = 0;
  });
}

}  // namespace ergw::cli
