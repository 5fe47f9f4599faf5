/*
 * Copyright (C) 2026 the ergw authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The ergw-ipsec plugin: charon's kernel-ipsec backend is ergw-fastpath.
 * Load it before kernel-netlink, which keeps kernel-net (addresses, routes);
 * never together with kernel-libipsec (docs/charon-plugin.md).
 */
#include "ergw_ipsec_plugin.h"
#include "ergw_ipsec_kernel.h"

#include <daemon.h>

typedef struct private_ergw_ipsec_plugin_t private_ergw_ipsec_plugin_t;

struct private_ergw_ipsec_plugin_t {
	ergw_ipsec_plugin_t public;
};

METHOD(plugin_t, get_name, char*,
	private_ergw_ipsec_plugin_t *this)
{
	return "ergw-ipsec";
}

METHOD(plugin_t, get_features, int,
	private_ergw_ipsec_plugin_t *this, plugin_feature_t *features[])
{
	static plugin_feature_t f[] = {
		PLUGIN_CALLBACK(kernel_ipsec_register, ergw_ipsec_kernel_create),
			PLUGIN_PROVIDE(CUSTOM, "kernel-ipsec"),
	};
	*features = f;
	return countof(f);
}

METHOD(plugin_t, destroy, void,
	private_ergw_ipsec_plugin_t *this)
{
	free(this);
}

plugin_t *ergw_ipsec_plugin_create(void)
{
	private_ergw_ipsec_plugin_t *this;

	INIT(this,
		.public = {
			.plugin = {
				.get_name = _get_name,
				.get_features = _get_features,
				.destroy = _destroy,
			},
		},
	);
	return &this->public.plugin;
}
