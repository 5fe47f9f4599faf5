#include "tests/routing/fake_bird.h"

#include <unistd.h>

#include <array>
#include <deque>

#include <boost/asio/write.hpp>

#include "tests/routing/capture.h"

namespace ergw::routing::testing {

namespace asio = boost::asio;
using boost::system::error_code;

struct FakeBird::Session {
  explicit Session(asio::io_context& io) : socket(io) {}
  asio::local::stream_protocol::socket socket;
  std::array<char, 4096> buffer{};
  std::string input;
  std::deque<std::string> output;
  bool writing = false;
  bool greeted = false;
  bool closed = false;
  bool peer_gone = false;  // the client hung up while we were stopped
};

FakeBird::FakeBird(asio::io_context& io, std::string path) : io_(io), path_(std::move(path)) {}

FakeBird::~FakeBird() {
  *alive_ = false;
  go_away();
}

void FakeBird::on(const std::string& prefix, Answer answer) { answers_[prefix] = std::move(answer); }

void FakeBird::on(const std::string& prefix, std::string reply) {
  answers_[prefix] = [reply = std::move(reply)](const std::string&) { return reply; };
}

int FakeBird::count(const std::string& prefix) const {
  int n = 0;
  for (const auto& r : requests_) n += r.rfind(prefix, 0) == 0;
  return n;
}

void FakeBird::listen() {
  if (acceptor_) return;
  ::unlink(path_.c_str());
  acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(io_,
                                                                       asio::local::stream_protocol::endpoint(path_));
  accept();
}

void FakeBird::go_away() {
  if (acceptor_) {
    error_code ignored;
    acceptor_->close(ignored);
    acceptor_.reset();
    ::unlink(path_.c_str());
  }
  for (auto& session : sessions_) {
    session->closed = true;
    error_code ignored;
    session->socket.shutdown(asio::local::stream_protocol::socket::shutdown_both, ignored);
    session->socket.close(ignored);
  }
  sessions_.clear();
  paused_ = false;
}

void FakeBird::pause() { paused_ = true; }

void FakeBird::resume() {
  paused_ = false;
  for (const auto& session : std::vector<std::shared_ptr<Session>>(sessions_)) {
    if (!session->greeted) greet(session);
    serve(session);
    if (session->peer_gone) {
      session->closed = true;
      error_code ignored;
      session->socket.close(ignored);
      std::erase(sessions_, session);
    }
  }
}

void FakeBird::accept() {
  auto session = std::make_shared<Session>(io_);
  acceptor_->async_accept(session->socket, [this, alive = std::weak_ptr<bool>(alive_), session](const error_code& ec) {
    auto token = alive.lock();
    if (!token || !*token || ec || !acceptor_) return;
    ++accepted_;
    sessions_.push_back(session);
    // A stopped BIRD greets nobody: the connection waits in its backlog.
    if (!paused_) greet(session);
    read(session);
    accept();
  });
}

void FakeBird::greet(const std::shared_ptr<Session>& session) {
  session->greeted = true;
  send(session, read_capture("hello.txt"));
}

void FakeBird::read(const std::shared_ptr<Session>& session) {
  session->socket.async_read_some(
      asio::buffer(session->buffer),
      [this, alive = std::weak_ptr<bool>(alive_), session](const error_code& ec, std::size_t n) {
        auto token = alive.lock();
        if (!token || !*token || session->closed) return;
        if (ec) {
          // A stopped BIRD has not read yet: it still finds what the client
          // sent before it hung up, once it runs again.
          if (paused_) {
            session->peer_gone = true;
            return;
          }
          session->closed = true;
          std::erase(sessions_, session);
          return;
        }
        session->input.append(session->buffer.data(), n);
        serve(session);
        read(session);
      });
}

// Like BIRD, requests of one connection are handled in order; a stopped BIRD
// reads nothing.
void FakeBird::serve(const std::shared_ptr<Session>& session) {
  if (paused_ || !session->greeted || session->closed) return;
  std::size_t newline;
  while ((newline = session->input.find('\n')) != std::string::npos) {
    std::string line = session->input.substr(0, newline);
    session->input.erase(0, newline + 1);
    requests_.push_back(line);
    std::string reply = answer_for(line);
    if (!reply.empty()) send(session, std::move(reply));
  }
}

std::string FakeBird::answer_for(const std::string& line) const {
  const Answer* best = nullptr;
  std::size_t best_length = 0;
  for (const auto& [prefix, answer] : answers_) {
    if (line.rfind(prefix, 0) == 0 && (best == nullptr || prefix.size() > best_length)) {
      best = &answer;
      best_length = prefix.size();
    }
  }
  if (best != nullptr) return (*best)(line);
  return read_capture("parse_error.txt");
}

void FakeBird::send(const std::shared_ptr<Session>& session, std::string bytes) {
  session->output.push_back(std::move(bytes));
  if (!session->writing) write_next(session);
}

void FakeBird::write_next(const std::shared_ptr<Session>& session) {
  if (session->output.empty() || session->closed) {
    session->writing = false;
    return;
  }
  session->writing = true;
  asio::async_write(session->socket, asio::buffer(session->output.front()),
                    [this, alive = std::weak_ptr<bool>(alive_), session](const error_code& ec, std::size_t) {
                      auto token = alive.lock();
                      if (!token || !*token || session->closed) return;
                      session->output.pop_front();
                      if (ec) {
                        session->writing = false;
                        return;
                      }
                      write_next(session);
                    });
}

}  // namespace ergw::routing::testing
