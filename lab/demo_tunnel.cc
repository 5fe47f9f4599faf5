#include "lab/demo_tunnel.h"

#include <sys/stat.h>

#include <fstream>

#include "lab/try.h"

namespace ergw::lab {
namespace {

std::filesystem::path conf_path(Lab& lab, Node node) { return lab.state_dir() / node_title(node) / "swanctl.conf"; }

Status load_side(Lab& lab, Node node) {
  CharonInstance* charon = lab.charon(node);
  if (charon == nullptr) return Error{"no charon in " + std::string(node_title(node))};
  ERGW_LAB_TRY(charon->wait_ready());
  return charon->load_all(conf_path(lab, node));
}

Status initiate_and_route(Lab& lab) {
  CharonInstance* appliance = lab.charon(Node::appliance);
  lab.progress("[lab " + lab.id() + "] initiating IKEv2 from the appliance to azure-gw");
  ERGW_LAB_TRY(appliance->initiate_child(kApplianceConnection));
  ERGW_LAB_TRY(lab.wait_for_link(Node::appliance, kLibipsecTun, std::chrono::seconds(10)));
  ERGW_LAB_TRY(lab.wait_for_link(Node::azure_gw, kLibipsecTun, std::chrono::seconds(10)));
  ERGW_LAB_TRY(lab.route_via(Node::appliance, lab.addresses().vnet_prefix));
  ERGW_LAB_TRY(lab.route_via(Node::azure_gw, lab.addresses().onprem_prefix));
  lab.progress("[lab " + lab.id() + "] tunnel up");
  return {};
}

}  // namespace

std::string render_demo_swanctl_conf(const DemoTunnelSide& side, const std::string& psk) {
  const std::string& c = side.connection;
  return "# ergw lab demo tunnel (hand-written baseline)\n"
         "connections {\n"
         "  " + c + " {\n"
         "    version = 2\n"
         "    local_addrs = " + side.local_address + "\n"
         "    remote_addrs = " + side.remote_address + "\n"
         "    proposals = aes256-sha256-modp2048\n"
         "    local {\n"
         "      auth = psk\n"
         "      id = " + side.local_address + "\n"
         "    }\n"
         "    remote {\n"
         "      auth = psk\n"
         "      id = " + side.remote_address + "\n"
         "    }\n"
         "    children {\n"
         "      " + c + " {\n"
         "        local_ts = 0.0.0.0/0\n"
         "        remote_ts = 0.0.0.0/0\n"
         "        esp_proposals = aes256gcm16\n"
         "      }\n"
         "    }\n"
         "  }\n"
         "}\n"
         "secrets {\n"
         "  ike-" + c + " {\n"
         "    id-local = " + side.local_address + "\n"
         "    id-remote = " + side.remote_address + "\n"
         "    secret = 0x" + psk + "\n"
         "  }\n"
         "}\n";
}

Status write_demo_swanctl_conf(const std::filesystem::path& path, const DemoTunnelSide& side, const std::string& psk) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const mode_t old_mask = umask(077);  // the file holds the PSK
  std::ofstream out(path, std::ios::trunc);
  out << render_demo_swanctl_conf(side, psk);
  const bool ok = static_cast<bool>(out.flush());
  umask(old_mask);
  if (!ok) return Error{"cannot write " + path.string()};
  return {};
}

std::string random_psk() {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  unsigned char bytes[32] = {};
  urandom.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

Status bring_up_demo_tunnel(Lab& lab) {
  const std::string psk = random_psk();
  const std::string appliance_address = lab.address(Node::appliance);
  const std::string azure_address = lab.address(Node::azure_gw);
  for (Node node : {Node::appliance, Node::azure_gw}) {
    if (lab.charon(node) == nullptr) {
      auto started = lab.start_charon(node);
      if (!started.ok()) return Error{started.error()};
    }
  }
  ERGW_LAB_TRY(write_demo_swanctl_conf(conf_path(lab, Node::appliance),
                                       {kApplianceConnection, appliance_address, azure_address}, psk));
  ERGW_LAB_TRY(write_demo_swanctl_conf(conf_path(lab, Node::azure_gw),
                                       {kAzureGwConnection, azure_address, appliance_address}, psk));
  ERGW_LAB_TRY(load_side(lab, Node::azure_gw));
  ERGW_LAB_TRY(load_side(lab, Node::appliance));
  return initiate_and_route(lab);
}

Status reestablish_demo_tunnel(Lab& lab) {
  ERGW_LAB_TRY(load_side(lab, Node::azure_gw));
  ERGW_LAB_TRY(load_side(lab, Node::appliance));
  return initiate_and_route(lab);
}

}  // namespace ergw::lab
