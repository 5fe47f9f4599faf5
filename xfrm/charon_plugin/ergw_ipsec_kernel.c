/*
 * Copyright (C) 2026 the ergw authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A thin shim: each kernel_ipsec_t call becomes one request to the fast path
 * (docs/ipsec-protocol.md). Keys are copied into the request, which is wiped
 * after use (the copy kept for a replay too, when its SA goes). Keys are never
 * logged. Failures are reported to charon at once; nothing here waits longer
 * than the request timeout (charon.plugins.ergw-ipsec.timeout).
 */
#include "ergw_ipsec_kernel.h"
#include "ergw_ipsec_channel.h"

#include <errno.h>
#include <sys/socket.h>

#include <daemon.h>

#define DEFAULT_SOCKET "/run/ergw/fastpath.sock"
#define DEFAULT_TIMEOUT_MS 1000

typedef struct private_ergw_ipsec_kernel_t private_ergw_ipsec_kernel_t;

struct private_ergw_ipsec_kernel_t {
	kernel_ipsec_t public;
	ergw_ipsec_channel_t *channel;
};

/* The status charon should see for a request's outcome; `what` for logs. */
static status_t outcome(status_t sent, const char *what, wire_reply_t *reply)
{
	chunk_t text;

	if (sent != SUCCESS)
	{
		DBG1(DBG_KNL, "ergw-ipsec: %s failed: the fast path does not answer", what);
		return FAILED;
	}
	switch (reply->status)
	{
		case ERGW_IPSEC_OK:
			return SUCCESS;
		case ERGW_IPSEC_E_NOT_FOUND:
			return NOT_FOUND;
		default:
			text = wire_get(reply, ERGW_IPSEC_ATTR_ERROR_TEXT);
			DBG1(DBG_KNL, "ergw-ipsec: %s refused by the fast path: %.*s", what, (int)text.len, text.ptr);
			return reply->status == ERGW_IPSEC_E_UNSUPPORTED ? NOT_SUPPORTED : FAILED;
	}
}

/* Sends `msg` and returns the status charon should see; `what` for logs. */
static status_t call(private_ergw_ipsec_kernel_t *this, wire_msg_t *msg, const char *what,
					 chunk_t *raw, wire_reply_t *reply)
{
	return outcome(this->channel->request(this->channel, msg, raw, reply), what, reply);
}

static status_t call_simple(private_ergw_ipsec_kernel_t *this, wire_msg_t *msg, const char *what)
{
	chunk_t raw = chunk_empty;
	wire_reply_t reply;
	status_t status;

	status = call(this, msg, what, &raw, &reply);
	chunk_free(&raw);
	return status;
}

static void put_sa_id(wire_msg_t *msg, kernel_ipsec_sa_id_t *id)
{
	wire_put_u8(msg, ERGW_IPSEC_ATTR_PROTO, id->proto);
	wire_put_u32(msg, ERGW_IPSEC_ATTR_SPI, ntohl(id->spi));
	wire_put_address(msg, ERGW_IPSEC_ATTR_SRC, id->src);
	wire_put_address(msg, ERGW_IPSEC_ATTR_DST, id->dst);
	if (id->mark.value || id->mark.mask)
	{
		wire_put_u32x2(msg, ERGW_IPSEC_ATTR_MARK, id->mark.value, id->mark.mask);
	}
	if (id->if_id)
	{
		wire_put_u32(msg, ERGW_IPSEC_ATTR_IF_ID, id->if_id);
	}
}

static bool put_ts_list(wire_msg_t *msg, uint16_t type, linked_list_t *list)
{
	enumerator_t *enumerator;
	traffic_selector_t *ts;
	bool ok = TRUE;

	if (!list)
	{
		return TRUE;
	}
	enumerator = list->create_enumerator(list);
	while (ok && enumerator->enumerate(enumerator, &ts))
	{
		ok = wire_put_ts(msg, type, ts);
	}
	enumerator->destroy(enumerator);
	return ok;
}

METHOD(kernel_ipsec_t, get_features, kernel_feature_t,
	private_ergw_ipsec_kernel_t *this)
{
	/* raw ESP without NAT, ESP-in-UDP with it; no forced encapsulation */
	return 0;
}

METHOD(kernel_ipsec_t, get_spi, status_t,
	private_ergw_ipsec_kernel_t *this, host_t *src, host_t *dst,
	uint8_t protocol, uint32_t *spi)
{
	wire_msg_t msg;
	wire_reply_t reply;
	chunk_t raw = chunk_empty;
	uint32_t value;
	status_t status;

	wire_msg_init(&msg, ERGW_IPSEC_MSG_GET_SPI);
	wire_put_u8(&msg, ERGW_IPSEC_ATTR_PROTO, protocol);
	wire_put_address(&msg, ERGW_IPSEC_ATTR_SRC, src);
	wire_put_address(&msg, ERGW_IPSEC_ATTR_DST, dst);
	status = call(this, &msg, "get_spi", &raw, &reply);
	if (status == SUCCESS)
	{
		if (wire_get_u32(&reply, ERGW_IPSEC_ATTR_SPI, &value))
		{
			*spi = htonl(value);
		}
		else
		{
			status = FAILED;
		}
	}
	wire_msg_clear(&msg);
	chunk_free(&raw);
	return status;
}

METHOD(kernel_ipsec_t, get_cpi, status_t,
	private_ergw_ipsec_kernel_t *this, host_t *src, host_t *dst,
	uint16_t *cpi)
{
	return NOT_SUPPORTED;
}

METHOD(kernel_ipsec_t, add_sa, status_t,
	private_ergw_ipsec_kernel_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_add_sa_t *data)
{
	wire_msg_t *msg;
	lifetime_cfg_t *lt = data->lifetime;
	status_t status;

	if (data->ipcomp != IPCOMP_NONE || data->mode != MODE_TUNNEL || id->proto != IPPROTO_ESP)
	{
		DBG1(DBG_KNL, "ergw-ipsec: the fast path carries ESP in tunnel mode without IPComp only");
		return NOT_SUPPORTED;
	}
	INIT(msg);
	wire_msg_init(msg, ERGW_IPSEC_MSG_ADD_SA);
	/* first, so that a replay can set it in place (ergw_ipsec_channel.c) */
	wire_put_u8(msg, ERGW_IPSEC_ATTR_REPLAY, 0);
	put_sa_id(msg, id);
	wire_put_u32(msg, ERGW_IPSEC_ATTR_REQID, data->reqid);
	wire_put_u8(msg, ERGW_IPSEC_ATTR_MODE, 2);
	wire_put_u8(msg, ERGW_IPSEC_ATTR_INBOUND, data->inbound);
	wire_put_u8(msg, ERGW_IPSEC_ATTR_UPDATE, data->update);
	wire_put_u8(msg, ERGW_IPSEC_ATTR_INITIATOR, data->initiator);
	wire_put_u8(msg, ERGW_IPSEC_ATTR_ENCAP, data->encap);
	if (data->encap)
	{
		wire_put_u16(msg, ERGW_IPSEC_ATTR_SRC_PORT, id->src->get_port(id->src));
		wire_put_u16(msg, ERGW_IPSEC_ATTR_DST_PORT, id->dst->get_port(id->dst));
	}
	wire_put_u8(msg, ERGW_IPSEC_ATTR_ESN, data->esn);
	wire_put_u32(msg, ERGW_IPSEC_ATTR_REPLAY_WINDOW, data->replay_window);
	wire_put_u64x3(msg, ERGW_IPSEC_ATTR_LIFETIME_SOFT, lt->bytes.rekey, lt->packets.rekey, lt->time.rekey);
	wire_put_u64x3(msg, ERGW_IPSEC_ATTR_LIFETIME_HARD, lt->bytes.life, lt->packets.life, lt->time.life);
	wire_put_u16(msg, ERGW_IPSEC_ATTR_ENC_ALG, data->enc_alg);
	wire_put_bytes(msg, ERGW_IPSEC_ATTR_ENC_KEY, data->enc_key);
	if (data->int_alg != AUTH_UNDEFINED)
	{
		wire_put_u16(msg, ERGW_IPSEC_ATTR_INT_ALG, data->int_alg);
		wire_put_bytes(msg, ERGW_IPSEC_ATTR_INT_KEY, data->int_key);
	}
	if (!put_ts_list(msg, ERGW_IPSEC_ATTR_SRC_TS, data->src_ts) ||
		!put_ts_list(msg, ERGW_IPSEC_ATTR_DST_TS, data->dst_ts))
	{
		DBG1(DBG_KNL, "ergw-ipsec: traffic selectors that are address ranges, not subnets, are not carried");
		msg_free:
		wire_msg_clear(msg);
		free(msg);
		return NOT_SUPPORTED;
	}
	status = call_simple(this, msg, "add_sa");
	if (status != SUCCESS)
	{
		goto msg_free;
	}
	DBG2(DBG_KNL, "ergw-ipsec: added SA %.8x %H -> %H reqid %u", ntohl(id->spi), id->src, id->dst, data->reqid);
	/* kept (keys included) to be replayed if the fast path restarts; wiped when the SA goes */
	this->channel->remember_sa(this->channel, id->spi, id->dst, msg);
	return SUCCESS;
}

METHOD(kernel_ipsec_t, update_sa, status_t,
	private_ergw_ipsec_kernel_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_update_sa_t *data)
{
	wire_msg_t msg;
	status_t status;

	wire_msg_init(&msg, ERGW_IPSEC_MSG_UPDATE_SA);
	put_sa_id(&msg, id);
	wire_put_address(&msg, ERGW_IPSEC_ATTR_NEW_SRC, data->new_src);
	wire_put_address(&msg, ERGW_IPSEC_ATTR_NEW_DST, data->new_dst);
	wire_put_u8(&msg, ERGW_IPSEC_ATTR_NEW_ENCAP, data->new_encap);
	wire_put_u16(&msg, ERGW_IPSEC_ATTR_NEW_SRC_PORT, data->new_src->get_port(data->new_src));
	wire_put_u16(&msg, ERGW_IPSEC_ATTR_NEW_DST_PORT, data->new_dst->get_port(data->new_dst));
	status = call_simple(this, &msg, "update_sa");
	wire_msg_clear(&msg);
	if (status == SUCCESS)
	{
		this->channel->remember_update(this->channel, id->spi, id->dst, data->new_src, data->new_dst,
									   data->new_encap);
	}
	return status;
}

METHOD(kernel_ipsec_t, query_sa, status_t,
	private_ergw_ipsec_kernel_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_query_sa_t *data, uint64_t *bytes, uint64_t *packets,
	time_t *time)
{
	wire_msg_t msg;
	wire_reply_t reply;
	chunk_t raw = chunk_empty;
	uint64_t value, sa_bytes, sa_packets;
	status_t status;

	wire_msg_init(&msg, ERGW_IPSEC_MSG_QUERY_SA);
	put_sa_id(&msg, id);
	status = outcome(this->channel->query(this->channel, id->spi, id->dst, &msg, &raw, &reply, &sa_bytes,
										  &sa_packets), "query_sa", &reply);
	if (status == SUCCESS)
	{
		/* never less than charon saw before, even across a fast-path restart */
		if (bytes)
		{
			*bytes = sa_bytes;
		}
		if (packets)
		{
			*packets = sa_packets;
		}
		if (time && wire_get_u64(&reply, ERGW_IPSEC_ATTR_USE_TIME, &value))
		{
			*time = (time_t)value;
		}
	}
	wire_msg_clear(&msg);
	chunk_free(&raw);
	return status;
}

METHOD(kernel_ipsec_t, del_sa, status_t,
	private_ergw_ipsec_kernel_t *this, kernel_ipsec_sa_id_t *id,
	kernel_ipsec_del_sa_t *data)
{
	wire_msg_t msg;
	status_t status;

	wire_msg_init(&msg, ERGW_IPSEC_MSG_DEL_SA);
	put_sa_id(&msg, id);
	status = call_simple(this, &msg, "del_sa");
	wire_msg_clear(&msg);
	/* gone from the fast path or not: never replay it */
	this->channel->forget_sa(this->channel, id->spi, id->dst);
	return status;
}

/* FLUSH_SAS or FLUSH_POLICIES; the registry forgets them either way. */
static status_t flush(private_ergw_ipsec_kernel_t *this, uint16_t type, const char *what)
{
	wire_msg_t msg;
	status_t status;

	wire_msg_init(&msg, type);
	status = call_simple(this, &msg, what);
	wire_msg_clear(&msg);
	if (type == ERGW_IPSEC_MSG_FLUSH_SAS)
	{
		this->channel->forget_all_sas(this->channel);
	}
	else
	{
		this->channel->forget_all_policies(this->channel);
	}
	return status;
}

METHOD(kernel_ipsec_t, flush_sas, status_t,
	private_ergw_ipsec_kernel_t *this)
{
	return flush(this, ERGW_IPSEC_MSG_FLUSH_SAS, "flush_sas");
}

/* The attributes that identify a policy; FALSE for selectors we cannot carry. */
static bool put_policy_id(wire_msg_t *msg, kernel_ipsec_policy_id_t *id)
{
	wire_put_u8(msg, ERGW_IPSEC_ATTR_DIRECTION, id->dir);
	if (!wire_put_ts(msg, ERGW_IPSEC_ATTR_SRC_TS, id->src_ts) ||
		!wire_put_ts(msg, ERGW_IPSEC_ATTR_DST_TS, id->dst_ts))
	{
		return FALSE;
	}
	if (id->mark.value || id->mark.mask)
	{
		wire_put_u32x2(msg, ERGW_IPSEC_ATTR_MARK, id->mark.value, id->mark.mask);
	}
	if (id->if_id)
	{
		wire_put_u32(msg, ERGW_IPSEC_ATTR_IF_ID, id->if_id);
	}
	return TRUE;
}

/* A copy of the identifying attributes, to match DEL_POLICY to ADD_POLICY. */
static chunk_t policy_key(wire_msg_t *msg)
{
	return chunk_clone(chunk_create(msg->buf + ERGW_IPSEC_HEADER_BYTES, msg->len - ERGW_IPSEC_HEADER_BYTES));
}

METHOD(kernel_ipsec_t, add_policy, status_t,
	private_ergw_ipsec_kernel_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_manage_policy_t *data)
{
	wire_msg_t *msg;
	chunk_t key;
	status_t status;

	INIT(msg);
	wire_msg_init(msg, ERGW_IPSEC_MSG_ADD_POLICY);
	if (!put_policy_id(msg, id))
	{
		DBG1(DBG_KNL, "ergw-ipsec: policy %R === %R: address ranges that are no subnets are not carried",
			 id->src_ts, id->dst_ts);
		wire_msg_clear(msg);
		free(msg);
		return NOT_SUPPORTED;
	}
	key = policy_key(msg);
	wire_put_u8(msg, ERGW_IPSEC_ATTR_POLICY_TYPE, data->type);
	wire_put_u32(msg, ERGW_IPSEC_ATTR_PRIORITY, data->manual_prio ? data->manual_prio : data->prio);
	if (data->sa)
	{
		wire_put_u32(msg, ERGW_IPSEC_ATTR_REQID, data->sa->reqid);
		if (data->sa->esp.use)
		{
			wire_put_u32(msg, ERGW_IPSEC_ATTR_SPI, ntohl(data->sa->esp.spi));
		}
	}
	if (data->src && data->dst && data->src->get_family(data->src) == data->dst->get_family(data->dst))
	{
		wire_put_address(msg, ERGW_IPSEC_ATTR_SRC, data->src);
		wire_put_address(msg, ERGW_IPSEC_ATTR_DST, data->dst);
	}
	status = call_simple(this, msg, "add_policy");
	if (status != SUCCESS)
	{
		chunk_free(&key);
		wire_msg_clear(msg);
		free(msg);
		return status;
	}
	this->channel->remember_policy(this->channel, key, msg);
	return SUCCESS;
}

METHOD(kernel_ipsec_t, query_policy, status_t,
	private_ergw_ipsec_kernel_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_query_policy_t *data, time_t *use_time)
{
	/* charon falls back to the SAs' last use (query_sa) */
	return NOT_SUPPORTED;
}

METHOD(kernel_ipsec_t, del_policy, status_t,
	private_ergw_ipsec_kernel_t *this, kernel_ipsec_policy_id_t *id,
	kernel_ipsec_manage_policy_t *data)
{
	wire_msg_t msg;
	status_t status;

	wire_msg_init(&msg, ERGW_IPSEC_MSG_DEL_POLICY);
	if (!put_policy_id(&msg, id))
	{
		wire_msg_clear(&msg);
		return NOT_FOUND;
	}
	this->channel->forget_policy(this->channel, policy_key(&msg));
	status = call_simple(this, &msg, "del_policy");
	wire_msg_clear(&msg);
	return status;
}

METHOD(kernel_ipsec_t, flush_policies, status_t,
	private_ergw_ipsec_kernel_t *this)
{
	return flush(this, ERGW_IPSEC_MSG_FLUSH_POLICIES, "flush_policies");
}

METHOD(kernel_ipsec_t, bypass_socket, bool,
	private_ergw_ipsec_kernel_t *this, int fd, int family)
{
	/* IKE never passes through the fast path's policies */
	return TRUE;
}

METHOD(kernel_ipsec_t, enable_udp_decap, bool,
	private_ergw_ipsec_kernel_t *this, int fd, int family, uint16_t port)
{
	int on = 1;

	/* ESP-in-UDP shares this port: the fast path joins this socket's
	 * SO_REUSEPORT group with a program that leaves IKE to charon. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
	{
		DBG1(DBG_KNL, "ergw-ipsec: SO_REUSEPORT on charon's NAT-T socket failed: %s", strerror(errno));
		return FALSE;
	}
	this->channel->remember_ike_socket(this->channel, family == AF_INET6 ? 6 : 4, port);
	return TRUE;
}

METHOD(kernel_ipsec_t, destroy, void,
	private_ergw_ipsec_kernel_t *this)
{
	this->channel->destroy(this->channel);
	free(this);
}

kernel_ipsec_t *ergw_ipsec_kernel_create(void)
{
	private_ergw_ipsec_kernel_t *this;
	char *path;
	int timeout;

	path = lib->settings->get_str(lib->settings, "%s.plugins.ergw-ipsec.socket", DEFAULT_SOCKET, lib->ns);
	timeout = lib->settings->get_int(lib->settings, "%s.plugins.ergw-ipsec.timeout", DEFAULT_TIMEOUT_MS, lib->ns);
	INIT(this,
		.public = {
			.get_features = _get_features,
			.get_spi = _get_spi,
			.get_cpi = _get_cpi,
			.add_sa = _add_sa,
			.update_sa = _update_sa,
			.query_sa = _query_sa,
			.del_sa = _del_sa,
			.flush_sas = _flush_sas,
			.add_policy = _add_policy,
			.query_policy = _query_policy,
			.del_policy = _del_policy,
			.flush_policies = _flush_policies,
			.bypass_socket = _bypass_socket,
			.enable_udp_decap = _enable_udp_decap,
			.destroy = _destroy,
		},
		.channel = ergw_ipsec_channel_create(path, timeout),
	);
	DBG1(DBG_KNL, "ergw-ipsec: SAs and policies go to the fast path at %s (timeout %d ms)", path, timeout);
	/* we are loaded before socket-default: a fast path that still holds the
	 * NAT-T port from a previous charon lets go of it now */
	this->channel->release_ike_ports(this->channel);
	return &this->public;
}
