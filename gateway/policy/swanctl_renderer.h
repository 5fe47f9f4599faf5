// Renders a compiled configuration as swanctl.conf text. Secrets print as
// <redacted> unless the caller explicitly asks for them.
#pragma once

#include <string>

#include "gateway/policy/settings_tree.h"
#include "gateway/policy/strongswan_config.h"

namespace ergw::policy {

enum class SecretDisplay { redacted, revealed };

std::string render_swanctl_conf(const CompiledConfiguration& config, SecretDisplay secrets);
// The strongswan.conf fragment with the charon-wide settings.
std::string render_charon_settings(const CharonSettings& settings);

}  // namespace ergw::policy
