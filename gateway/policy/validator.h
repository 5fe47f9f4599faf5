// Validation of ergw's configuration against Azure's rules (enums, ranges,
// combination rules, BGP) and what ergw itself needs, plus warnings with a fix
// for what Azure accepts but a careful engineer would not. Every finding is
// collected; nothing stops at the first error. This is the one rule book:
// `ergw policy check` and ergwd both run exactly this (through
// load_configuration), so they accept and refuse the same files.
#pragma once

#include "common/diagnostics.h"
#include "gateway/policy/azure_connection.h"
#include "gateway/policy/azure_rules.h"

namespace ergw::policy {

void validate_connection(const ConnectionSpec& spec, Diagnostics& diagnostics, const ValidationOptions& options = {});
void validate_configuration(const ApplianceConfig& config, Diagnostics& diagnostics,
                            const ValidationOptions& options = {});

}  // namespace ergw::policy
