/*
 * Copyright (C) 2026 the ergw authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The plugin's connection to ergw-fastpath: synchronous requests with short
 * timeouts from any charon thread (serialised by one lock, never held while
 * calling into charon), a registry of everything installed so that it can be
 * replayed when the fast path comes back after a restart, and an event thread
 * that turns EXPIRE/MAPPING events into charon->kernel->expire()/mapping().
 */
#ifndef ERGW_IPSEC_CHANNEL_H_
#define ERGW_IPSEC_CHANNEL_H_

#include "ergw_ipsec_wire.h"

typedef struct ergw_ipsec_channel_t ergw_ipsec_channel_t;

struct ergw_ipsec_channel_t {

	/**
	 * Sends `msg` (sequence filled in) and waits for the reply, at most the
	 * configured timeout. On SUCCESS `raw` holds the reply (chunk_free it)
	 * and `reply` points into it. FAILED: the fast path is unreachable or did
	 * not answer in time; the reply's status says what it refused.
	 */
	status_t (*request)(ergw_ipsec_channel_t *this, wire_msg_t *msg, chunk_t *raw, wire_reply_t *reply);

	/**
	 * QUERY_SA for the SA (spi, dst) as request() does. When the fast path
	 * answers OK, `bytes` and `packets` are the larger of its counters and
	 * the largest ever returned for this SA; they are kept in the registry,
	 * so that a replay after a restart of the fast path carries them and
	 * charon never sees them fall.
	 */
	status_t (*query)(ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst, wire_msg_t *msg, chunk_t *raw,
					  wire_reply_t *reply, uint64_t *bytes, uint64_t *packets);

	/** Registry (replayed after a restart of the fast path). Takes `msg`. */
	void (*remember_sa)(ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst, wire_msg_t *msg);
	/** The SA (spi, dst) moved (update_sa): its stored ADD_SA takes the new
	 *  addresses, ports and encapsulation, and it is found under `new_dst`. */
	void (*remember_update)(ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst, host_t *new_src,
							host_t *new_dst, bool new_encap);
	void (*forget_sa)(ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst);
	/** `key` identifies the policy (direction, selectors, mark, if_id). Takes both. */
	void (*remember_policy)(ergw_ipsec_channel_t *this, chunk_t key, wire_msg_t *msg);
	void (*forget_policy)(ergw_ipsec_channel_t *this, chunk_t key);
	void (*remember_ike_socket)(ergw_ipsec_channel_t *this, uint8_t family, uint16_t port);
	/** charon is starting: the fast path leaves the NAT-T ports so that
	 *  socket-default can bind them (enable_udp_decap hands them back). */
	void (*release_ike_ports)(ergw_ipsec_channel_t *this);
	void (*forget_all_sas)(ergw_ipsec_channel_t *this);
	void (*forget_all_policies)(ergw_ipsec_channel_t *this);

	void (*destroy)(ergw_ipsec_channel_t *this);
};

/**
 * @param path		the fast path's control socket
 * @param timeout_ms	per request
 */
ergw_ipsec_channel_t *ergw_ipsec_channel_create(const char *path, int timeout_ms);

#endif
