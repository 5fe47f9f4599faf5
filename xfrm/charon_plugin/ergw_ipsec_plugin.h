/*
 * Copyright (C) 2026 the ergw authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef ERGW_IPSEC_PLUGIN_H_
#define ERGW_IPSEC_PLUGIN_H_

#include <plugins/plugin.h>

typedef struct ergw_ipsec_plugin_t ergw_ipsec_plugin_t;

struct ergw_ipsec_plugin_t {
	plugin_t plugin;
};

plugin_t *ergw_ipsec_plugin_create(void);

#endif
