#include "routing/bird_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace ergw::routing {
namespace {

bool is_symbol_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Table and protocol names go into the command as bare symbols; anything but
// a BIRD symbol would change the command's meaning.
bool is_symbol(const std::string& s) {
  if (s.empty() || s.size() > 64 || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), is_symbol_char);
}

bool is_pattern(const std::string& s) {
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_symbol_char(c) || c == '*' || c == '?'; });
}

bool is_quotable_path(const std::string& path) {
  if (path.empty() || path.size() > 1024) return false;
  return std::none_of(path.begin(), path.end(),
                      [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; });
}

// Sends `line` (or reports why it could not be built) and parses the reply.
template <typename T, typename Parse>
void send_parsed(BirdClient& client, Result<std::string> line, Completion<T> done, Parse parse) {
  if (!line) {
    client.reject(line.error(), [done = std::move(done)](Result<Reply> r) { done(Error{r.error()}); });
    return;
  }
  client.command(std::move(*line), [done = std::move(done), parse](Result<Reply> reply) {
    if (!reply) {
      done(Error{reply.error()});
      return;
    }
    done(parse(*reply));
  });
}

std::string last_line(const Reply& reply) { return reply.lines.empty() ? std::string() : reply.lines.back().text; }

}  // namespace

Result<std::string> show_protocols_command(const std::string& pattern) {
  std::string command = "show protocols all";
  if (pattern.empty()) return command;
  if (!is_pattern(pattern)) return Error{"not a BIRD protocol pattern: " + pattern};
  return command + " \"" + pattern + "\"";
}

Result<std::string> show_route_command(const RouteQuery& query) {
  std::string command = "show route";
  if (query.all) command += " all";
  if (!query.table.empty()) {
    if (!is_symbol(query.table)) return Error{"not a BIRD table name: " + query.table};
    command += " table " + query.table;
  }
  if (!query.protocol.empty()) {
    if (!is_symbol(query.protocol)) return Error{"not a BIRD protocol name: " + query.protocol};
    command += " protocol " + query.protocol;
  }
  return command;
}

void query_protocols(BirdClient& client, const std::string& pattern, Completion<std::vector<ProtocolStatus>> done) {
  send_parsed(client, show_protocols_command(pattern), std::move(done),
              [](const Reply& reply) { return parse_show_protocols(reply); });
}

void query_routes(BirdClient& client, const RouteQuery& query, Completion<std::vector<Route>> done) {
  send_parsed(client, show_route_command(query), std::move(done),
              [](const Reply& reply) { return parse_show_route(reply); });
}

void query_status(BirdClient& client, Completion<DaemonStatus> done) {
  send_parsed(client, Result<std::string>(std::string(kShowStatusCommand)), std::move(done),
              [](const Reply& reply) { return parse_show_status(reply); });
}

const char* to_string(ProtocolSwitch change) { return change == ProtocolSwitch::enable ? "enable" : "disable"; }

void switch_protocol(BirdClient& client, const std::string& protocol, ProtocolSwitch change, StatusCompletion done) {
  if (!is_symbol(protocol)) {
    client.reject("not a BIRD protocol name: " + protocol, [done = std::move(done)](Result<Reply> r) {
      done(Error{r.error()});
    });
    return;
  }
  const std::string line = std::string(to_string(change)) + " " + protocol;
  client.command(line, [done = std::move(done), line](Result<Reply> reply) {
    if (!reply) done(Error{reply.error()});
    else if (reply->is_error()) done(Error{line + ": BIRD said " + last_line(*reply)});
    else done(Status::success());
  });
}

void check_config(BirdClient& client, const std::string& config_path, ConfigCompletion done) {
  if (!is_quotable_path(config_path)) {
    client.reject("config path can not be quoted for BIRD: " + config_path,
                  [done = std::move(done)](Result<Reply> r) { done({ConfigVerdict::not_written, r.error()}); });
    return;
  }
  client.command("configure check \"" + config_path + "\"", [done = std::move(done), config_path](Result<Reply> reply) {
    if (!reply) {
      done({ConfigVerdict::bird_not_answering, reply.error()});
    } else if (reply->final_code() != reply_code::kConfigurationOk) {
      done({ConfigVerdict::refused, "BIRD refused " + config_path + ": " + last_line(*reply)});
    } else {
      done({ConfigVerdict::applied, ""});
    }
  });
}

void install_config(BirdClient& client, const std::string& config_path, const std::string& text,
                    const std::optional<FileOwner>& owner, ConfigCompletion done) {
  const std::string candidate = config_path + ".new";
  if (Status written = write_config_file(candidate, text, owner); !written) {
    client.reject(written.error(),
                  [done = std::move(done)](Result<Reply> r) { done({ConfigVerdict::not_written, r.error()}); });
    return;
  }
  check_config(client, candidate, [&client, candidate, config_path, done = std::move(done)](ConfigOutcome checked) {
    if (!checked.ok()) {
      ::unlink(candidate.c_str());
      done(std::move(checked));
      return;
    }
    if (::rename(candidate.c_str(), config_path.c_str()) != 0) {
      const int saved = errno;
      ::unlink(candidate.c_str());
      done({ConfigVerdict::not_written,
            "cannot rename " + candidate + " to " + config_path + ": " + std::strerror(saved)});
      return;
    }
    client.command("configure \"" + config_path + "\"", [done, config_path](Result<Reply> reply) {
      if (!reply) {
        done({ConfigVerdict::bird_not_answering, reply.error()});
        return;
      }
      switch (reply->final_code()) {
        case reply_code::kReconfigured:
        case reply_code::kReconfigurationInProgress:
        case reply_code::kNothingToDo:
          done({ConfigVerdict::applied, ""});
          return;
        default:
          done({ConfigVerdict::refused, "BIRD did not reconfigure from " + config_path + ": " + last_line(*reply)});
      }
    });
  });
}

}  // namespace ergw::routing
