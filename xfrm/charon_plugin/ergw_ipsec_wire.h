/*
 * Copyright (C) 2026 the ergw authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Building and reading ergw-ipsec protocol messages (xfrm/control/protocol.h,
 * docs/ipsec-protocol.md) on charon's side. Messages may hold keys: release
 * them with wire_msg_clear(), which wipes the buffer.
 */
#ifndef ERGW_IPSEC_WIRE_H_
#define ERGW_IPSEC_WIRE_H_

#include <library.h>
#include <networking/host.h>
#include <selectors/traffic_selector.h>

#include "xfrm/control/protocol.h"

typedef struct {
	u_char *buf;
	size_t len;
	size_t size;
	bool failed; /* a value did not fit (the message is not sent) */
} wire_msg_t;

void wire_msg_init(wire_msg_t *msg, uint16_t type);
void wire_put_u8(wire_msg_t *msg, uint16_t type, uint8_t value);
void wire_put_u16(wire_msg_t *msg, uint16_t type, uint16_t value);
void wire_put_u32(wire_msg_t *msg, uint16_t type, uint32_t value);
void wire_put_u32x2(wire_msg_t *msg, uint16_t type, uint32_t a, uint32_t b);
void wire_put_u64(wire_msg_t *msg, uint16_t type, uint64_t value);
void wire_put_u64x3(wire_msg_t *msg, uint16_t type, uint64_t a, uint64_t b, uint64_t c);
void wire_put_bytes(wire_msg_t *msg, uint16_t type, chunk_t value);
void wire_put_string(wire_msg_t *msg, uint16_t type, const char *value);
void wire_put_address(wire_msg_t *msg, uint16_t type, host_t *host);
/* FALSE when the selector is an address range that is no subnet. */
bool wire_put_ts(wire_msg_t *msg, uint16_t type, traffic_selector_t *ts);
/* Fills in the length and the sequence number. */
void wire_finish(wire_msg_t *msg, uint32_t sequence);
/* Wipes and frees. */
void wire_msg_clear(wire_msg_t *msg);
wire_msg_t wire_msg_clone(wire_msg_t *msg);
/* A copy of `msg` without its attributes of the `count` types in `types`
 * (the others keep their order). */
wire_msg_t wire_msg_clone_without(wire_msg_t *msg, const uint16_t *types, int count);

/* A received message: header fields and access to its attributes. */
typedef struct {
	uint32_t length;
	uint16_t version; /* set even when wire_parse fails for another version */
	uint16_t type;
	uint32_t sequence;
	int32_t status;
	chunk_t body; /* the attributes */
} wire_reply_t;

/* Validates the header (our protocol version) and the attribute framing of `data`. */
bool wire_parse(chunk_t data, wire_reply_t *reply);
/* The first attribute of `type`, or chunk_empty. */
chunk_t wire_get(wire_reply_t *reply, uint16_t type);
bool wire_get_u32(wire_reply_t *reply, uint16_t type, uint32_t *value);
bool wire_get_u64(wire_reply_t *reply, uint16_t type, uint64_t *value);

uint32_t wire_load32(const u_char *p);

#endif
