#include "xfrm/io/ike_steering.h"

#include <linux/filter.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

namespace ergw::xfrm::io {

Status attach_ike_steering(int fd) {
  // For UDP the kernel runs the program with the UDP header pulled, so
  // offset 0 is the first payload octet. A load past the end ends the program
  // with 0, which sends short datagrams to charon.
  sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),             // A = payload[0..4)
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),      // marker?
      BPF_STMT(BPF_RET | BPF_K, 0),                      //   charon
      BPF_STMT(BPF_RET | BPF_K, 1),                      //   fast path
  };
  sock_fprog fprog{static_cast<unsigned short>(sizeof(program) / sizeof(program[0])), program};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog, sizeof(fprog)) < 0) {
    return Error{std::string("SO_ATTACH_REUSEPORT_CBPF: ") + std::strerror(errno)};
  }
  return Status::success();
}

}  // namespace ergw::xfrm::io
