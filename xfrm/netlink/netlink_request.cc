#include "xfrm/netlink/netlink_request.h"

#include <linux/rtnetlink.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "common/system_error.h"

namespace ergw::xfrm {

Status netlink_request(uint16_t type, uint16_t flags, const std::string& what,
                       const std::function<void(nlmsghdr*)>& build) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  auto* header = mnl_nlmsg_put_header(buffer.data());
  header->nlmsg_type = type;
  header->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  header->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
  build(header);

  std::unique_ptr<mnl_socket, decltype(&mnl_socket_close)> socket(mnl_socket_open(NETLINK_ROUTE),
                                                                  &mnl_socket_close);
  if (!socket) return Error{what + ": cannot open a netlink socket: " + std::strerror(errno)};
  if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return Error{what + ": cannot bind the netlink socket: " + std::strerror(errno)};
  }
  if (mnl_socket_sendto(socket.get(), header, header->nlmsg_len) < 0) {
    return Error{what + ": send failed: " + std::strerror(errno)};
  }
  const auto port = mnl_socket_get_portid(socket.get());
  const ssize_t received = mnl_socket_recvfrom(socket.get(), buffer.data(), buffer.size());
  if (received < 0) return Error{what + ": no answer from the kernel: " + std::strerror(errno)};
  // The ACK is an NLMSG_ERROR with error 0; mnl_cb_run turns a non-zero one
  // into -1 with errno set.
  if (mnl_cb_run(buffer.data(), static_cast<size_t>(received), header->nlmsg_seq, port, nullptr, nullptr) < 0) {
    // The kernel's refusal, with a code for what callers decide on
    // (EEXIST, ENOENT, ...).
    return system_error(what, errno);
  }
  return Status::success();
}

}  // namespace ergw::xfrm
