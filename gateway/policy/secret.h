// The policy model holds PSKs in ergw::Secret (common/secret.h); the name
// stays available in this namespace for the policy code.
#pragma once

#include "common/secret.h"

namespace ergw::policy {

using ergw::Secret;

}  // namespace ergw::policy
