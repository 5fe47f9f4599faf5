/*
 * Copyright (C) 2026 the ergw authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ergw_ipsec_wire.h"

static void store16(u_char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void store32(u_char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
	{
		p[i] = (v >> (8 * i)) & 0xff;
	}
}

static void store64(u_char *p, uint64_t v)
{
	store32(p, (uint32_t)v);
	store32(p + 4, (uint32_t)(v >> 32));
}

uint32_t wire_load32(const u_char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint16_t load16(const u_char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

/* Grows the buffer; the old one is wiped, as it may hold keys. */
static bool reserve(wire_msg_t *msg, size_t more)
{
	u_char *bigger;
	size_t size;

	if (msg->failed || msg->len + more > ERGW_IPSEC_MAX_MESSAGE)
	{
		msg->failed = TRUE;
		return FALSE;
	}
	if (msg->len + more <= msg->size)
	{
		return TRUE;
	}
	size = max(msg->size * 2, msg->len + more);
	bigger = malloc(size);
	memcpy(bigger, msg->buf, msg->len);
	memwipe(msg->buf, msg->size);
	free(msg->buf);
	msg->buf = bigger;
	msg->size = size;
	return TRUE;
}

void wire_msg_init(wire_msg_t *msg, uint16_t type)
{
	msg->size = 512;
	msg->buf = calloc(1, msg->size);
	msg->len = ERGW_IPSEC_HEADER_BYTES;
	msg->failed = FALSE;
	store16(msg->buf + 4, ERGW_IPSEC_PROTOCOL_VERSION);
	store16(msg->buf + 6, type);
}

static void put(wire_msg_t *msg, uint16_t type, const void *value, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	if (len > 0xffff || !reserve(msg, ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES + padded))
	{
		msg->failed = TRUE;
		return;
	}
	store16(msg->buf + msg->len, type);
	store16(msg->buf + msg->len + 2, (uint16_t)len);
	memcpy(msg->buf + msg->len + 4, value, len);
	memset(msg->buf + msg->len + 4 + len, 0, padded - len);
	msg->len += ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES + padded;
}

void wire_put_u8(wire_msg_t *msg, uint16_t type, uint8_t value)
{
	put(msg, type, &value, 1);
}

void wire_put_u16(wire_msg_t *msg, uint16_t type, uint16_t value)
{
	u_char v[2];

	store16(v, value);
	put(msg, type, v, sizeof(v));
}

void wire_put_u32(wire_msg_t *msg, uint16_t type, uint32_t value)
{
	u_char v[4];

	store32(v, value);
	put(msg, type, v, sizeof(v));
}

void wire_put_u32x2(wire_msg_t *msg, uint16_t type, uint32_t a, uint32_t b)
{
	u_char v[8];

	store32(v, a);
	store32(v + 4, b);
	put(msg, type, v, sizeof(v));
}

void wire_put_u64(wire_msg_t *msg, uint16_t type, uint64_t value)
{
	u_char v[8];

	store64(v, value);
	put(msg, type, v, sizeof(v));
}

void wire_put_u64x3(wire_msg_t *msg, uint16_t type, uint64_t a, uint64_t b, uint64_t c)
{
	u_char v[24];

	store64(v, a);
	store64(v + 8, b);
	store64(v + 16, c);
	put(msg, type, v, sizeof(v));
}

void wire_put_bytes(wire_msg_t *msg, uint16_t type, chunk_t value)
{
	put(msg, type, value.ptr, value.len);
}

void wire_put_string(wire_msg_t *msg, uint16_t type, const char *value)
{
	put(msg, type, value, strlen(value));
}

void wire_put_address(wire_msg_t *msg, uint16_t type, host_t *host)
{
	chunk_t address = host->get_address(host);

	put(msg, type, address.ptr, address.len);
}

bool wire_put_ts(wire_msg_t *msg, uint16_t type, traffic_selector_t *ts)
{
	u_char v[8 + 16];
	host_t *net = NULL;
	uint8_t mask = 0;
	chunk_t address;
	bool exact;

	exact = ts->to_subnet(ts, &net, &mask);
	if (!exact)
	{
		DESTROY_IF(net);
		return FALSE;
	}
	address = net->get_address(net);
	memset(v, 0, sizeof(v));
	v[0] = ts->get_protocol(ts);
	v[1] = mask;
	store16(v + 2, ts->get_from_port(ts));
	store16(v + 4, ts->get_to_port(ts));
	memcpy(v + 8, address.ptr, address.len);
	put(msg, type, v, 8 + address.len);
	net->destroy(net);
	return TRUE;
}

void wire_finish(wire_msg_t *msg, uint32_t sequence)
{
	store32(msg->buf, (uint32_t)msg->len);
	store32(msg->buf + 8, sequence);
}

void wire_msg_clear(wire_msg_t *msg)
{
	if (msg->buf)
	{
		memwipe(msg->buf, msg->size);
		free(msg->buf);
	}
	msg->buf = NULL;
	msg->len = msg->size = 0;
}

wire_msg_t wire_msg_clone(wire_msg_t *msg)
{
	wire_msg_t copy = *msg;

	copy.buf = malloc(msg->size);
	memcpy(copy.buf, msg->buf, msg->size);
	return copy;
}

wire_msg_t wire_msg_clone_without(wire_msg_t *msg, const uint16_t *types, int count)
{
	wire_msg_t copy = wire_msg_clone(msg);
	size_t offset = ERGW_IPSEC_HEADER_BYTES, whole;
	uint16_t type;
	bool drop;
	int i;

	copy.len = ERGW_IPSEC_HEADER_BYTES;
	while (msg->len - offset >= ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES)
	{
		type = load16(msg->buf + offset);
		whole = ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES + ((load16(msg->buf + offset + 2) + 3) & ~(size_t)3);
		if (whole > msg->len - offset)
		{
			break;
		}
		for (drop = FALSE, i = 0; i < count && !drop; i++)
		{
			drop = types[i] == type;
		}
		if (!drop)
		{
			memcpy(copy.buf + copy.len, msg->buf + offset, whole);
			copy.len += whole;
		}
		offset += whole;
	}
	/* the clone's bytes past the kept attributes may hold keys: wiped */
	memwipe(copy.buf + copy.len, copy.size - copy.len);
	return copy;
}

bool wire_parse(chunk_t data, wire_reply_t *reply)
{
	size_t offset = ERGW_IPSEC_HEADER_BYTES;
	uint16_t len;

	if (data.len < ERGW_IPSEC_HEADER_BYTES)
	{
		return FALSE;
	}
	reply->length = wire_load32(data.ptr);
	reply->version = load16(data.ptr + 4);
	reply->type = load16(data.ptr + 6);
	reply->sequence = wire_load32(data.ptr + 8);
	reply->status = (int32_t)wire_load32(data.ptr + 12);
	if (reply->length != data.len || reply->version != ERGW_IPSEC_PROTOCOL_VERSION)
	{
		return FALSE;
	}
	while (offset < data.len)
	{
		if (data.len - offset < ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES)
		{
			return FALSE;
		}
		len = load16(data.ptr + offset + 2);
		offset += ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES;
		if (len > data.len - offset)
		{
			return FALSE;
		}
		offset += min((size_t)((len + 3) & ~3), data.len - offset);
	}
	reply->body = chunk_skip(data, ERGW_IPSEC_HEADER_BYTES);
	return TRUE;
}

chunk_t wire_get(wire_reply_t *reply, uint16_t type)
{
	chunk_t rest = reply->body;
	uint16_t len;

	while (rest.len >= ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES)
	{
		len = load16(rest.ptr + 2);
		if (len > rest.len - ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES)
		{
			break;
		}
		if (load16(rest.ptr) == type)
		{
			return chunk_create(rest.ptr + ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES, len);
		}
		rest = chunk_skip(rest, ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES + ((len + 3) & ~3));
	}
	return chunk_empty;
}

bool wire_get_u32(wire_reply_t *reply, uint16_t type, uint32_t *value)
{
	chunk_t v = wire_get(reply, type);

	if (v.len != 4)
	{
		return FALSE;
	}
	*value = wire_load32(v.ptr);
	return TRUE;
}

bool wire_get_u64(wire_reply_t *reply, uint16_t type, uint64_t *value)
{
	chunk_t v = wire_get(reply, type);

	if (v.len != 8)
	{
		return FALSE;
	}
	*value = (uint64_t)wire_load32(v.ptr) | ((uint64_t)wire_load32(v.ptr + 4) << 32);
	return TRUE;
}
