#include "tests/gateway/fastpath/fake_fastpath.h"

#include <unistd.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "xfrm/control/message.h"
#include "xfrm/control/protocol.h"

namespace ergw::gateway::testing {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using xfrm::control::MessageReader;
using xfrm::control::MessageWriter;

struct FakeFastpath::Session {
  explicit Session(stream_protocol::socket s) : socket(std::move(s)) {}
  stream_protocol::socket socket;
  std::vector<uint8_t> buffer;
};

FakeFastpath::FakeFastpath(asio::io_context& io, std::string path) : io_(io), path_(std::move(path)) {}

FakeFastpath::~FakeFastpath() { stop(); }

void FakeFastpath::start() {
  ::unlink(path_.c_str());
  acceptor_ = std::make_unique<stream_protocol::acceptor>(io_, stream_protocol::endpoint(path_));
  instance_ = instance_ * 7 + 1001;
  routes_.clear();
  accept();
}

void FakeFastpath::stop() {
  if (!acceptor_) return;
  boost::system::error_code ignored;
  acceptor_->close(ignored);
  acceptor_.reset();
  for (const auto& s : sessions_) s->socket.close(ignored);
  sessions_.clear();
  ::unlink(path_.c_str());
}

void FakeFastpath::accept() {
  acceptor_->async_accept([this](const boost::system::error_code& ec, stream_protocol::socket socket) {
    if (ec || !acceptor_) return;
    auto session = std::make_shared<Session>(std::move(socket));
    sessions_.insert(session);
    read(session);
    accept();
  });
}

void FakeFastpath::read(std::shared_ptr<Session> session) {
  session->buffer.assign(4, 0);
  asio::async_read(session->socket, asio::buffer(session->buffer), [this, session](const boost::system::error_code& ec, size_t) {
    if (ec) {
      sessions_.erase(session);
      return;
    }
    const uint32_t length = xfrm::control::peek_message_length(std::span<const uint8_t, 4>(session->buffer.data(), 4));
    session->buffer.resize(length);
    asio::async_read(session->socket, asio::buffer(session->buffer.data() + 4, length - 4),
                     [this, session](const boost::system::error_code& ec2, size_t) {
                       if (ec2) {
                         sessions_.erase(session);
                         return;
                       }
                       if (answering_) {
                         auto reply = std::make_shared<std::vector<uint8_t>>(answer(session->buffer));
                         asio::async_write(session->socket, asio::buffer(*reply),
                                           [reply](const boost::system::error_code&, size_t) {});
                       }
                       read(session);
                     });
  });
}

std::vector<uint8_t> FakeFastpath::answer(const std::vector<uint8_t>& request) {
  auto parsed = MessageReader::parse(request);
  if (!parsed) return MessageWriter(0, 0, ERGW_IPSEC_E_INVALID).text(ERGW_IPSEC_ATTR_ERROR_TEXT, parsed.error()).finish();
  const auto& m = parsed.value();
  const auto type = m.header().type;
  const auto seq = m.header().sequence;
  switch (type) {
    case ERGW_IPSEC_MSG_HELLO:
      ++hellos_;
      return MessageWriter(type, seq).text(ERGW_IPSEC_ATTR_NAME, "fake-fastpath").u64(ERGW_IPSEC_ATTR_INSTANCE, instance_).finish();
    case ERGW_IPSEC_MSG_STATUS:
      return MessageWriter(type, seq).text(ERGW_IPSEC_ATTR_STATUS_JSON, status_.dump()).finish();
    case ERGW_IPSEC_MSG_ADD_ROUTE:
    case ERGW_IPSEC_MSG_DEL_ROUTE: {
      auto prefix = m.selectors(ERGW_IPSEC_ATTR_PREFIX);
      auto if_id = m.u32(ERGW_IPSEC_ATTR_IF_ID);
      if (!prefix.ok() || prefix.value().size() != 1 || !if_id.ok() || !if_id.value()) {
        return MessageWriter(type, seq, ERGW_IPSEC_E_INVALID).text(ERGW_IPSEC_ATTR_ERROR_TEXT, "prefix/if_id").finish();
      }
      const auto key = prefix.value().front().prefix.to_string();
      if (type == ERGW_IPSEC_MSG_ADD_ROUTE) {
        routes_[key] = *if_id.value();
      } else if (routes_.erase(key) == 0) {
        return MessageWriter(type, seq, ERGW_IPSEC_E_NOT_FOUND).text(ERGW_IPSEC_ATTR_ERROR_TEXT, "no route " + key).finish();
      }
      return MessageWriter(type, seq).finish();
    }
    default:
      return MessageWriter(type, seq, ERGW_IPSEC_E_INVALID).text(ERGW_IPSEC_ATTR_ERROR_TEXT, "not answered here").finish();
  }
}

}  // namespace ergw::gateway::testing
