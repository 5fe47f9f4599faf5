// FakeBird: an in-process BIRD control socket on the test's io_context. It
// greets each connection as BIRD 2.0.12 does and answers each request line
// with scripted bytes, by default real BIRD 2.0.12 replies from
// tests/routing/data/. It can stop answering as a BIRD stopped with SIGSTOP
// does (connections are queued by the kernel, requests wait unread) and
// carry on afterwards, and go away as an exited BIRD does.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace ergw::routing::testing {

class FakeBird {
 public:
  // Bytes to send for a request line; empty: never answer it.
  using Answer = std::function<std::string(const std::string& line)>;

  FakeBird(boost::asio::io_context& io, std::string path);
  ~FakeBird();
  FakeBird(const FakeBird&) = delete;
  FakeBird& operator=(const FakeBird&) = delete;

  // Binds the socket and accepts (again after go_away()).
  void listen();
  // BIRD exited: every connection closes, the socket refuses connections.
  void go_away();
  // SIGSTOP / SIGCONT.
  void pause();
  void resume();

  // Requests starting with `prefix` get `answer`; the longest prefix wins.
  void on(const std::string& prefix, Answer answer);
  void on(const std::string& prefix, std::string reply);

  bool listening() const { return acceptor_ != nullptr; }
  bool paused() const { return paused_; }
  const std::string& path() const { return path_; }
  int accepted() const { return accepted_; }
  // Every request line received and answered (in order).
  const std::vector<std::string>& requests() const { return requests_; }
  // How many requests start with `prefix`.
  int count(const std::string& prefix) const;

 private:
  struct Session;
  void accept();
  void greet(const std::shared_ptr<Session>& session);
  void read(const std::shared_ptr<Session>& session);
  void serve(const std::shared_ptr<Session>& session);
  std::string answer_for(const std::string& line) const;
  void send(const std::shared_ptr<Session>& session, std::string bytes);
  void write_next(const std::shared_ptr<Session>& session);

  boost::asio::io_context& io_;
  std::string path_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  std::vector<std::shared_ptr<Session>> sessions_;
  std::map<std::string, Answer> answers_;
  std::vector<std::string> requests_;
  bool paused_ = false;
  int accepted_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ergw::routing::testing
