#include "vici/commands.h"

#include <algorithm>

namespace ergw::vici {

namespace {

// charon answers a streamed command only after its own timeout; give the client
// a margin on top so it does not give up first.
constexpr std::chrono::milliseconds kStreamMargin{5'000};

CommandOptions options_for_charon_timeout(int timeout_ms) {
  CommandOptions options;
  if (timeout_ms > 0) options.timeout = std::chrono::milliseconds(timeout_ms) + kStreamMargin;
  return options;
}

std::vector<ControlLogLine> parse_log(const std::vector<Message>& events) {
  std::vector<ControlLogLine> lines;
  lines.reserve(events.size());
  for (const Message& event : events) lines.push_back(parse_control_log(event));
  return lines;
}

// "<command> failed: <errmsg> (last log: ...)" with up to three log lines, which
// usually say why (e.g. an AUTHENTICATION_FAILED notify).
Status check_with_log(std::string_view command, const Message& reply,
                      const std::vector<ControlLogLine>& log) {
  Status status = check_success(command, reply);
  if (status || log.empty()) return status;
  std::string text = status.error() + " (last log:";
  const std::size_t first = log.size() > 3 ? log.size() - 3 : 0;
  for (std::size_t i = first; i < log.size(); ++i) text += " [" + log[i].message + "]";
  return Error{text + ")", status.error_code()};
}

void set_if(Message& request, std::string_view key, const std::string& value) {
  if (!value.empty()) request.set(key, value);
}

void set_if(Message& request, std::string_view key, const std::optional<uint64_t>& value) {
  if (value) request.set_uint(key, *value);
}

// Runs a simple command whose reply is only {success, errmsg}.
void run_simple(Client& client, std::string_view command, Message request, StatusCallback done,
                CommandOptions options = {}) {
  client.call(
      command, std::move(request),
      [command = std::string(command), done = std::move(done)](Result<Message> reply) {
        if (!reply) {
          done(reply.failure());
          return;
        }
        done(check_success(command, *reply));
      },
      options);
}

Result<std::vector<std::string>> list_of(const Message& reply, std::string_view key,
                                         std::string_view command) {
  Field<const List*> list = reply.get_list(key);
  if (list) return **list;
  // charon sends the list even when empty; tolerate its absence anyway.
  if (list.error() == FieldError::missing) return std::vector<std::string>{};
  return Error{std::string(command) + ": " + list.message(), ErrorCode::malformed};
}

}  // namespace

Status check_success(std::string_view command, const Message& reply) {
  Field<bool> success = reply.get_bool("success");
  if (success && *success) return {};
  std::string errmsg(reply.string_or("errmsg", ""));
  if (errmsg.empty()) errmsg = success ? "no error message" : success.message();
  return Error{std::string(command) + " failed: " + errmsg, ErrorCode::refused};
}

ControlLogLine parse_control_log(const Message& event) {
  ControlLogLine line;
  line.group = std::string(event.string_or("group", ""));
  line.level = static_cast<int>(event.get_int("level").value_or(0));
  line.ike_name = std::string(event.string_or("ikesa-name", ""));
  // The README says "ikesa-uniqued"; charon 5.9.8 sends "ikesa-uniqueid".
  if (Field<uint64_t> id = event.get_uint("ikesa-uniqueid")) line.ike_uniqueid = *id;
  line.message = std::string(event.string_or("msg", ""));
  return line;
}

void version(Client& client, Callback<VersionInfo> done) {
  client.call("version", {}, [done = std::move(done)](Result<Message> reply) {
    if (!reply) return done(reply.failure());
    VersionInfo info;
    Field<std::string_view> daemon = reply->get_string("daemon");
    Field<std::string_view> version = reply->get_string("version");
    if (!daemon || !version) {
      return done(Error{"version: " + (daemon ? version.message() : daemon.message()), ErrorCode::malformed});
    }
    info.daemon = std::string(*daemon);
    info.version = std::string(*version);
    info.sysname = std::string(reply->string_or("sysname", ""));
    info.release = std::string(reply->string_or("release", ""));
    info.machine = std::string(reply->string_or("machine", ""));
    done(std::move(info));
  });
}

void stats(Client& client, Callback<StatsInfo> done) {
  client.call("stats", {}, [done = std::move(done)](Result<Message> reply) {
    if (!reply) return done(reply.failure());
    StatsInfo info;
    const Section empty;
    const Section& uptime = *reply->get_section("uptime").value_or(&empty);
    const Section& workers = *reply->get_section("workers").value_or(&empty);
    const Section& ikesas = *reply->get_section("ikesas").value_or(&empty);
    info.uptime_running = std::string(uptime.string_or("running", ""));
    info.uptime_since = std::string(uptime.string_or("since", ""));
    info.workers_total = workers.get_uint("total").value_or(0);
    info.workers_idle = workers.get_uint("idle").value_or(0);
    info.scheduled = reply->get_uint("scheduled").value_or(0);
    Field<uint64_t> total = ikesas.get_uint("total");
    if (!total) return done(Error{"stats: ikesas: " + total.message(), ErrorCode::malformed});
    info.ikesas_total = *total;
    info.ikesas_half_open = ikesas.get_uint("half-open").value_or(0);
    if (Field<const List*> plugins = reply->get_list("plugins")) info.plugins = **plugins;
    done(std::move(info));
  });
}

void load_conn(Client& client, std::string_view name, Section config, StatusCallback done) {
  Message request;
  request.set_section(name, std::move(config));
  run_simple(client, "load-conn", std::move(request), std::move(done));
}

void unload_conn(Client& client, std::string_view name, StatusCallback done) {
  Message request;
  request.set("name", name);
  run_simple(client, "unload-conn", std::move(request), std::move(done));
}

void get_conns(Client& client, Callback<std::vector<std::string>> done) {
  client.call("get-conns", {}, [done = std::move(done)](Result<Message> reply) {
    if (!reply) return done(reply.failure());
    done(list_of(*reply, "conns", "get-conns"));
  });
}

void list_conns(Client& client, std::optional<std::string> ike,
                Callback<std::vector<ConnInfo>> done) {
  Message request;
  if (ike) request.set("ike", *ike);
  client.call_streamed("list-conns", "list-conn", std::move(request),
                       [done = std::move(done)](Result<StreamedReply> reply) {
                         if (!reply) return done(reply.failure());
                         std::vector<ConnInfo> conns;
                         for (const Message& event : reply->events) {
                           Result<std::vector<ConnInfo>> parsed = parse_list_conn_event(event);
                           if (!parsed) return done(parsed.failure().prefixed("list-conns: "));
                           for (ConnInfo& conn : *parsed) conns.push_back(std::move(conn));
                         }
                         done(std::move(conns));
                       });
}

void load_shared(Client& client, const SharedKeyInfo& key, std::string_view secret,
                 StatusCallback done) {
  Message request;
  set_if(request, "id", key.id);
  request.set("type", key.type);
  request.set("data", secret);
  request.set_list("owners", key.owners);
  CommandOptions options;
  options.sensitive = true;
  // The reply's errmsg comes from charon and does not echo the data.
  run_simple(client, "load-shared", std::move(request), std::move(done), options);
}

void unload_shared(Client& client, std::string_view id, StatusCallback done) {
  Message request;
  request.set("id", id);
  run_simple(client, "unload-shared", std::move(request), std::move(done));
}

void get_shared(Client& client, Callback<std::vector<std::string>> done) {
  client.call("get-shared", {}, [done = std::move(done)](Result<Message> reply) {
    if (!reply) return done(reply.failure());
    done(list_of(*reply, "keys", "get-shared"));
  });
}

void initiate(Client& client, const InitiateRequest& request,
              Callback<std::vector<ControlLogLine>> done) {
  Message message;
  set_if(message, "child", request.child);
  set_if(message, "ike", request.ike);
  message.set_int("timeout", request.timeout_ms);
  if (request.init_limits) message.set_bool("init-limits", true);
  if (request.loglevel) message.set_int("loglevel", *request.loglevel);
  client.call_streamed("initiate", "control-log", std::move(message),
                       [done = std::move(done)](Result<StreamedReply> reply) {
                         if (!reply) return done(reply.failure());
                         std::vector<ControlLogLine> log = parse_log(reply->events);
                         if (Status s = check_with_log("initiate", reply->response, log); !s) {
                           return done(s.failure());
                         }
                         done(std::move(log));
                       },
                       options_for_charon_timeout(request.timeout_ms));
}

void terminate(Client& client, const TerminateRequest& request, Callback<TerminateResult> done) {
  Message message;
  set_if(message, "child", request.child);
  set_if(message, "ike", request.ike);
  set_if(message, "child-id", request.child_id);
  set_if(message, "ike-id", request.ike_id);
  if (request.force) message.set_bool("force", true);
  message.set_int("timeout", request.timeout_ms);
  client.call_streamed("terminate", "control-log", std::move(message),
                       [done = std::move(done)](Result<StreamedReply> reply) {
                         if (!reply) return done(reply.failure());
                         TerminateResult result;
                         result.log = parse_log(reply->events);
                         if (Status s = check_with_log("terminate", reply->response, result.log);
                             !s) {
                           return done(s.failure());
                         }
                         result.matches = reply->response.get_uint("matches").value_or(0);
                         result.terminated = reply->response.get_uint("terminated").value_or(0);
                         done(std::move(result));
                       },
                       options_for_charon_timeout(request.timeout_ms));
}

void rekey(Client& client, const RekeyRequest& request, Callback<uint64_t> done) {
  Message message;
  set_if(message, "child", request.child);
  set_if(message, "ike", request.ike);
  set_if(message, "child-id", request.child_id);
  set_if(message, "ike-id", request.ike_id);
  if (request.reauth) message.set_bool("reauth", true);
  client.call("rekey", std::move(message), [done = std::move(done)](Result<Message> reply) {
    if (!reply) return done(reply.failure());
    if (Status s = check_success("rekey", *reply); !s) return done(s.failure());
    done(reply->get_uint("matches").value_or(0));
  });
}

void list_sas(Client& client, const ListSasFilter& filter, Callback<std::vector<IkeSaInfo>> done) {
  Message message;
  if (filter.noblock) message.set_bool("noblock", true);
  set_if(message, "ike", filter.ike);
  set_if(message, "ike-id", filter.ike_id);
  set_if(message, "child", filter.child);
  set_if(message, "child-id", filter.child_id);
  client.call_streamed("list-sas", "list-sa", std::move(message),
                       [done = std::move(done)](Result<StreamedReply> reply) {
                         if (!reply) return done(reply.failure());
                         std::vector<IkeSaInfo> sas;
                         for (const Message& event : reply->events) {
                           Result<std::vector<IkeSaInfo>> parsed = parse_list_sa_event(event);
                           if (!parsed) return done(parsed.failure().prefixed("list-sas: "));
                           for (IkeSaInfo& sa : *parsed) sas.push_back(std::move(sa));
                         }
                         done(std::move(sas));
                       });
}

}  // namespace ergw::vici
