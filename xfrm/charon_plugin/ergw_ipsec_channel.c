/*
 * Copyright (C) 2026 the ergw authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ergw_ipsec_channel.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <daemon.h>
#include <collections/linked_list.h>
#include <threading/mutex.h>
#include <threading/thread.h>

/* After a failed connect, calls fail at once for this long instead of each
 * trying again: charon's threads must never queue up behind a dead socket. */
#define RECONNECT_HOLDOFF_MS 200
/* How often the event thread tries to reach a fast path that is away. */
#define EVENT_RETRY_MS 250

typedef struct private_ergw_ipsec_channel_t private_ergw_ipsec_channel_t;

typedef struct {
	uint32_t spi;
	host_t *dst;
	/* ADD_SA as it would be sent now: an update_sa rewrites its addresses,
	 * ports and encapsulation, so that a replay adds the SA where it is
	 * (the fast path finds its sequence numbers under the current
	 * destination) instead of where it was first */
	wire_msg_t *add;
	/* the largest counters charon was given (query); a replayed ADD_SA carries
	 * them so that the restarted fast path never reports less */
	uint64_t bytes;
	uint64_t packets;
} sa_entry_t;

typedef struct {
	chunk_t key;
	wire_msg_t msg;
} policy_entry_t;

typedef struct {
	uint8_t family;
	uint16_t port;
} ike_socket_t;

struct private_ergw_ipsec_channel_t {
	ergw_ipsec_channel_t public;
	char *path;
	int timeout_ms;
	/* guards everything below; never held while calling into charon */
	mutex_t *lock;
	int fd;
	uint32_t sequence;
	uint64_t instance;      /* the fast path's, from HELLO; 0 = never seen */
	timeval_t last_failure;
	bool failed_once;
	linked_list_t *sas;     /* sa_entry_t */
	linked_list_t *policies; /* policy_entry_t, oldest first */
	linked_list_t *ike_sockets;
	thread_t *events;
};

static void msg_destroy(wire_msg_t *msg)
{
	wire_msg_clear(msg);
	free(msg);
}

static void sa_entry_destroy(sa_entry_t *entry)
{
	entry->dst->destroy(entry->dst);
	msg_destroy(entry->add);
	free(entry);
}

static void policy_entry_destroy(policy_entry_t *entry)
{
	chunk_free(&entry->key);
	wire_msg_clear(&entry->msg);
	free(entry);
}

static int connect_socket(private_ergw_ipsec_channel_t *this)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = {
		.tv_sec = this->timeout_ms / 1000,
		.tv_usec = (this->timeout_ms % 1000) * 1000,
	};
	int fd;

	if (strlen(this->path) >= sizeof(addr.sun_path))
	{
		return -1;
	}
	strncpy(addr.sun_path, this->path, sizeof(addr.sun_path) - 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
	{
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
		connect(fd, (struct sockaddr*)&addr, sizeof(addr)) < 0)
	{
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends or receives exactly `len` octets (within the socket's timeout). */
static bool transfer(int fd, u_char *buf, size_t len, bool sending)
{
	ssize_t n;

	while (len)
	{
		n = sending ? send(fd, buf, len, MSG_NOSIGNAL) : recv(fd, buf, len, 0);
		if (n <= 0)
		{
			if (n < 0 && errno == EINTR)
			{
				continue;
			}
			return FALSE;
		}
		buf += n;
		len -= n;
	}
	return TRUE;
}

/* One whole message from `fd` into `raw` (allocated). */
static bool recv_message(int fd, chunk_t *raw)
{
	u_char head[4];
	uint32_t length;

	if (!transfer(fd, head, sizeof(head), FALSE))
	{
		return FALSE;
	}
	length = wire_load32(head);
	if (length < ERGW_IPSEC_HEADER_BYTES || length > ERGW_IPSEC_MAX_MESSAGE)
	{
		return FALSE;
	}
	*raw = chunk_alloc(length);
	memcpy(raw->ptr, head, sizeof(head));
	if (!transfer(fd, raw->ptr + 4, length - 4, FALSE))
	{
		chunk_clear(raw);
		return FALSE;
	}
	return TRUE;
}

/* Sends one message on `fd` and reads its reply. */
static bool exchange(int fd, wire_msg_t *msg, uint32_t sequence, chunk_t *raw, wire_reply_t *reply)
{
	wire_finish(msg, sequence);
	if (!transfer(fd, msg->buf, msg->len, TRUE) || !recv_message(fd, raw))
	{
		return FALSE;
	}
	if (!wire_parse(*raw, reply) || reply->sequence != sequence || reply->type != wire_load32(msg->buf + 4) >> 16)
	{
		if (raw->len >= ERGW_IPSEC_HEADER_BYTES && reply->version != ERGW_IPSEC_PROTOCOL_VERSION)
		{
			DBG1(DBG_KNL, "ergw-ipsec: the fast path speaks control protocol version %u, this plugin %u: "
				 "install ergw-fastpath and the ergw-ipsec plugin of the same ergw release",
				 reply->version, ERGW_IPSEC_PROTOCOL_VERSION);
		}
		chunk_clear(raw);
		return FALSE;
	}
	return TRUE;
}

/* HELLO on a fresh connection: the fast path's instance, or 0 on failure. */
static uint64_t hello(private_ergw_ipsec_channel_t *this, int fd, uint32_t sequence)
{
	wire_msg_t msg;
	wire_reply_t reply;
	chunk_t raw = chunk_empty;
	uint64_t instance = 0;

	wire_msg_init(&msg, ERGW_IPSEC_MSG_HELLO);
	wire_put_string(&msg, ERGW_IPSEC_ATTR_NAME, "charon ergw-ipsec");
	if (exchange(fd, &msg, sequence, &raw, &reply) && reply.status == ERGW_IPSEC_OK &&
		!wire_get_u64(&reply, ERGW_IPSEC_ATTR_INSTANCE, &instance))
	{
		instance = 0;
	}
	wire_msg_clear(&msg);
	chunk_free(&raw);
	return instance;
}

/* Sends a registry message once more (marked as a replay where it says so).
 * An ADD_SA of `sa` also carries the counters charon was last given. */
static bool replay_one(private_ergw_ipsec_channel_t *this, wire_msg_t *stored, sa_entry_t *sa)
{
	wire_msg_t msg = wire_msg_clone(stored);
	wire_reply_t reply;
	chunk_t raw = chunk_empty;
	bool ok;

	if (msg.len >= ERGW_IPSEC_HEADER_BYTES + 8 &&
		wire_load32(msg.buf + ERGW_IPSEC_HEADER_BYTES) == (1u << 16 | ERGW_IPSEC_ATTR_REPLAY))
	{	/* ADD_SA starts with REPLAY = 0 (ergw_ipsec_kernel.c): set it */
		msg.buf[ERGW_IPSEC_HEADER_BYTES + 4] = 1;
		if (sa && (sa->bytes || sa->packets))
		{
			wire_put_u64(&msg, ERGW_IPSEC_ATTR_BYTES, sa->bytes);
			wire_put_u64(&msg, ERGW_IPSEC_ATTR_PACKETS, sa->packets);
		}
	}
	ok = exchange(this->fd, &msg, ++this->sequence, &raw, &reply);
	if (ok && reply.status != ERGW_IPSEC_OK)
	{
		DBG1(DBG_KNL, "ergw-ipsec: the fast path refused a replayed message (status %d)", reply.status);
	}
	wire_msg_clear(&msg);
	chunk_clear(&raw);
	return ok;
}

static void send_ike_socket(private_ergw_ipsec_channel_t *this, ike_socket_t *sock)
{
	wire_msg_t msg;

	wire_msg_init(&msg, ERGW_IPSEC_MSG_IKE_SOCKET);
	wire_put_u8(&msg, ERGW_IPSEC_ATTR_FAMILY, sock->family);
	wire_put_u16(&msg, ERGW_IPSEC_ATTR_PORT, sock->port);
	replay_one(this, &msg, NULL);
	wire_msg_clear(&msg);
}

/* The fast path restarted: give it back everything charon installed. */
static bool replay(private_ergw_ipsec_channel_t *this)
{
	enumerator_t *enumerator;
	sa_entry_t *sa;
	policy_entry_t *policy;
	ike_socket_t *sock;
	int sas = 0, policies = 0;
	bool ok = TRUE;

	enumerator = this->ike_sockets->create_enumerator(this->ike_sockets);
	while (ok && enumerator->enumerate(enumerator, &sock))
	{
		send_ike_socket(this, sock);
	}
	enumerator->destroy(enumerator);
	enumerator = this->sas->create_enumerator(this->sas);
	while (ok && enumerator->enumerate(enumerator, &sa))
	{
		ok = replay_one(this, sa->add, sa);
		sas++;
	}
	enumerator->destroy(enumerator);
	enumerator = this->policies->create_enumerator(this->policies);
	while (ok && enumerator->enumerate(enumerator, &policy))
	{
		ok = replay_one(this, &policy->msg, NULL);
		policies++;
	}
	enumerator->destroy(enumerator);
	DBG1(DBG_KNL, "ergw-ipsec: fast path restarted; replayed %d SAs and %d policies%s", sas, policies,
		 ok ? "" : " (interrupted)");
	return ok;
}

/* Under the lock: a connection to the fast path, replaying on a new instance. */
static bool ensure_connected(private_ergw_ipsec_channel_t *this)
{
	timeval_t now;
	uint64_t instance;
	enumerator_t *enumerator;
	ike_socket_t *sock;

	if (this->fd >= 0)
	{
		return TRUE;
	}
	time_monotonic(&now);
	if (this->failed_once && timercmp(&now, &this->last_failure, <))
	{
		return FALSE;
	}
	this->fd = connect_socket(this);
	instance = this->fd >= 0 ? hello(this, this->fd, ++this->sequence) : 0;
	if (!instance)
	{
		if (this->fd >= 0)
		{
			close(this->fd);
			this->fd = -1;
		}
		if (!this->failed_once)
		{
			DBG1(DBG_KNL, "ergw-ipsec: the fast path's control socket %s does not answer", this->path);
		}
		this->failed_once = TRUE;
		this->last_failure = now;
		timeval_add_ms(&this->last_failure, RECONNECT_HOLDOFF_MS);
		return FALSE;
	}
	if (this->failed_once || this->instance != instance)
	{
		DBG1(DBG_KNL, "ergw-ipsec: connected to the fast path at %s", this->path);
	}
	this->failed_once = FALSE;
	if (this->instance && this->instance != instance)
	{
		if (!replay(this))
		{
			close(this->fd);
			this->fd = -1;
			return FALSE;
		}
	}
	else if (this->instance != instance)
	{
		enumerator = this->ike_sockets->create_enumerator(this->ike_sockets);
		while (enumerator->enumerate(enumerator, &sock))
		{
			send_ike_socket(this, sock);
		}
		enumerator->destroy(enumerator);
	}
	this->instance = instance;
	return TRUE;
}

/* Under the lock: one request and its reply. */
static status_t request_locked(private_ergw_ipsec_channel_t *this, wire_msg_t *msg, chunk_t *raw,
							   wire_reply_t *reply)
{
	int attempt;

	/* A connection that broke (the fast path restarted) is retried once on
	 * a fresh one, which replays what the new instance lacks. */
	for (attempt = 0; attempt < 2; attempt++)
	{
		if (!ensure_connected(this))
		{
			break;
		}
		if (exchange(this->fd, msg, ++this->sequence, raw, reply))
		{
			return SUCCESS;
		}
		close(this->fd);
		this->fd = -1;
	}
	return FAILED;
}

METHOD(ergw_ipsec_channel_t, request, status_t,
	private_ergw_ipsec_channel_t *this, wire_msg_t *msg, chunk_t *raw, wire_reply_t *reply)
{
	status_t status;

	if (msg->failed)
	{
		DBG1(DBG_KNL, "ergw-ipsec: message too large for the protocol");
		return FAILED;
	}
	this->lock->lock(this->lock);
	status = request_locked(this, msg, raw, reply);
	this->lock->unlock(this->lock);
	return status;
}

static sa_entry_t *find_sa(private_ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst);

METHOD(ergw_ipsec_channel_t, query, status_t,
	private_ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst, wire_msg_t *msg, chunk_t *raw,
	wire_reply_t *reply, uint64_t *bytes, uint64_t *packets)
{
	sa_entry_t *entry;
	status_t status;

	*bytes = *packets = 0;
	this->lock->lock(this->lock);
	status = request_locked(this, msg, raw, reply);
	if (status == SUCCESS && reply->status == ERGW_IPSEC_OK)
	{
		wire_get_u64(reply, ERGW_IPSEC_ATTR_BYTES, bytes);
		wire_get_u64(reply, ERGW_IPSEC_ATTR_PACKETS, packets);
		/* noted under the same lock hold as the request: no replay can run
		 * between the answer and the note and carry older counters */
		entry = find_sa(this, spi, dst);
		if (entry)
		{
			entry->bytes = *bytes = max(entry->bytes, *bytes);
			entry->packets = *packets = max(entry->packets, *packets);
		}
	}
	this->lock->unlock(this->lock);
	return status;
}

static sa_entry_t *find_sa(private_ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst)
{
	enumerator_t *enumerator;
	sa_entry_t *entry, *found = NULL;

	enumerator = this->sas->create_enumerator(this->sas);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (entry->spi == spi && entry->dst->ip_equals(entry->dst, dst))
		{
			found = entry;
			break;
		}
	}
	enumerator->destroy(enumerator);
	return found;
}

METHOD(ergw_ipsec_channel_t, remember_sa, void,
	private_ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst, wire_msg_t *msg)
{
	sa_entry_t *entry;

	INIT(entry,
		.spi = spi,
		.dst = dst->clone(dst),
		.add = msg,
	);
	this->lock->lock(this->lock);
	this->sas->insert_last(this->sas, entry);
	this->lock->unlock(this->lock);
}

METHOD(ergw_ipsec_channel_t, remember_update, void,
	private_ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst, host_t *new_src, host_t *new_dst,
	bool new_encap)
{
	static const uint16_t moved[] = {
		ERGW_IPSEC_ATTR_SRC, ERGW_IPSEC_ATTR_DST, ERGW_IPSEC_ATTR_ENCAP,
		ERGW_IPSEC_ATTR_SRC_PORT, ERGW_IPSEC_ATTR_DST_PORT,
	};
	sa_entry_t *entry;
	wire_msg_t *add;

	this->lock->lock(this->lock);
	entry = find_sa(this, spi, dst);
	if (entry)
	{
		INIT(add);
		*add = wire_msg_clone_without(entry->add, moved, countof(moved));
		wire_put_address(add, ERGW_IPSEC_ATTR_SRC, new_src);
		wire_put_address(add, ERGW_IPSEC_ATTR_DST, new_dst);
		wire_put_u8(add, ERGW_IPSEC_ATTR_ENCAP, new_encap);
		if (new_encap)
		{
			wire_put_u16(add, ERGW_IPSEC_ATTR_SRC_PORT, new_src->get_port(new_src));
			wire_put_u16(add, ERGW_IPSEC_ATTR_DST_PORT, new_dst->get_port(new_dst));
		}
		msg_destroy(entry->add);
		entry->add = add;
		entry->dst->destroy(entry->dst);
		entry->dst = new_dst->clone(new_dst);
	}
	this->lock->unlock(this->lock);
}

METHOD(ergw_ipsec_channel_t, forget_sa, void,
	private_ergw_ipsec_channel_t *this, uint32_t spi, host_t *dst)
{
	sa_entry_t *entry;

	this->lock->lock(this->lock);
	entry = find_sa(this, spi, dst);
	if (entry)
	{
		this->sas->remove(this->sas, entry, NULL);
	}
	this->lock->unlock(this->lock);
	if (entry)
	{
		sa_entry_destroy(entry);
	}
}

METHOD(ergw_ipsec_channel_t, remember_policy, void,
	private_ergw_ipsec_channel_t *this, chunk_t key, wire_msg_t *msg)
{
	policy_entry_t *entry;

	INIT(entry,
		.key = key,
		.msg = *msg,
	);
	free(msg);
	this->lock->lock(this->lock);
	this->policies->insert_last(this->policies, entry);
	this->lock->unlock(this->lock);
}

METHOD(ergw_ipsec_channel_t, forget_policy, void,
	private_ergw_ipsec_channel_t *this, chunk_t key)
{
	enumerator_t *enumerator;
	policy_entry_t *entry, *found = NULL;

	this->lock->lock(this->lock);
	/* the most recent reference goes first, as the fast path counts them */
	enumerator = this->policies->create_enumerator(this->policies);
	while (enumerator->enumerate(enumerator, &entry))
	{
		if (chunk_equals(entry->key, key))
		{
			found = entry;
		}
	}
	enumerator->destroy(enumerator);
	if (found)
	{
		this->policies->remove(this->policies, found, NULL);
	}
	this->lock->unlock(this->lock);
	if (found)
	{
		policy_entry_destroy(found);
	}
	chunk_free(&key);
}

METHOD(ergw_ipsec_channel_t, remember_ike_socket, void,
	private_ergw_ipsec_channel_t *this, uint8_t family, uint16_t port)
{
	ike_socket_t *sock;
	bool connected;

	INIT(sock,
		.family = family,
		.port = port,
	);
	this->lock->lock(this->lock);
	/* a first connection sends every known socket itself: add ours after */
	connected = ensure_connected(this);
	this->ike_sockets->insert_last(this->ike_sockets, sock);
	if (connected)
	{
		send_ike_socket(this, sock);
	}
	this->lock->unlock(this->lock);
}

METHOD(ergw_ipsec_channel_t, release_ike_ports, void,
	private_ergw_ipsec_channel_t *this)
{
	wire_msg_t msg;

	this->lock->lock(this->lock);
	if (ensure_connected(this))
	{
		wire_msg_init(&msg, ERGW_IPSEC_MSG_RELEASE_IKE_PORTS);
		replay_one(this, &msg, NULL);
		wire_msg_clear(&msg);
	}
	this->lock->unlock(this->lock);
}

METHOD(ergw_ipsec_channel_t, forget_all_sas, void,
	private_ergw_ipsec_channel_t *this)
{
	this->lock->lock(this->lock);
	this->sas->destroy_function(this->sas, (void*)sa_entry_destroy);
	this->sas = linked_list_create();
	this->lock->unlock(this->lock);
}

METHOD(ergw_ipsec_channel_t, forget_all_policies, void,
	private_ergw_ipsec_channel_t *this)
{
	this->lock->lock(this->lock);
	this->policies->destroy_function(this->policies, (void*)policy_entry_destroy);
	this->policies = linked_list_create();
	this->lock->unlock(this->lock);
}

/* Delivers one event to charon; runs on the event thread without our lock. */
static void deliver_event(wire_reply_t *event)
{
	chunk_t proto, dst, hard, new_src;
	uint32_t spi;
	uint16_t port;
	host_t *dst_host, *remote;
	int family;

	proto = wire_get(event, ERGW_IPSEC_ATTR_PROTO);
	dst = wire_get(event, ERGW_IPSEC_ATTR_DST);
	if (proto.len != 1 || (dst.len != 4 && dst.len != 16) || !wire_get_u32(event, ERGW_IPSEC_ATTR_SPI, &spi))
	{
		DBG1(DBG_KNL, "ergw-ipsec: malformed event from the fast path ignored");
		return;
	}
	family = dst.len == 4 ? AF_INET : AF_INET6;
	dst_host = host_create_from_chunk(family, dst, 0);
	if (event->type == ERGW_IPSEC_MSG_EXPIRE)
	{
		hard = wire_get(event, ERGW_IPSEC_ATTR_HARD);
		DBG1(DBG_KNL, "ergw-ipsec: %s expire of SA %.8x to %H", hard.len == 1 && hard.ptr[0] ? "hard" : "soft",
			 spi, dst_host);
		charon->kernel->expire(charon->kernel, proto.ptr[0], htonl(spi), dst_host,
							   hard.len == 1 && hard.ptr[0] != 0);
	}
	else if (event->type == ERGW_IPSEC_MSG_MAPPING)
	{
		new_src = wire_get(event, ERGW_IPSEC_ATTR_NEW_SRC);
		if (new_src.len == 4 || new_src.len == 16)
		{
			chunk_t p = wire_get(event, ERGW_IPSEC_ATTR_NEW_SRC_PORT);
			port = p.len == 2 ? (uint16_t)(p.ptr[0] | (p.ptr[1] << 8)) : 4500;
			remote = host_create_from_chunk(new_src.len == 4 ? AF_INET : AF_INET6, new_src, port);
			if (remote)
			{
				charon->kernel->mapping(charon->kernel, proto.ptr[0], htonl(spi), dst_host, remote);
				remote->destroy(remote);
			}
		}
	}
	DESTROY_IF(dst_host);
}

/* Subscribes on a connection of its own, reads events, and after the fast
 * path comes back makes the request channel reconnect and replay at once. */
static void *event_loop(private_ergw_ipsec_channel_t *this)
{
	wire_msg_t msg;
	wire_reply_t reply;
	chunk_t raw;
	struct pollfd pfd;
	uint64_t instance;
	int fd = -1, rc;
	bool oldstate;

	/* cancelled only where it waits, never while holding the lock */
	thread_cancelability(FALSE);
	while (TRUE)
	{
		if (fd < 0)
		{
			fd = connect_socket(this);
			instance = fd >= 0 ? hello(this, fd, 1) : 0;
			raw = chunk_empty;
			wire_msg_init(&msg, ERGW_IPSEC_MSG_SUBSCRIBE);
			if (!instance || !exchange(fd, &msg, 2, &raw, &reply) || reply.status != ERGW_IPSEC_OK)
			{
				if (fd >= 0)
				{
					close(fd);
				}
				fd = -1;
			}
			wire_msg_clear(&msg);
			chunk_free(&raw);
			if (fd < 0)
			{
				oldstate = thread_cancelability(TRUE);
				usleep(EVENT_RETRY_MS * 1000);
				thread_cancelability(oldstate);
				continue;
			}
			this->lock->lock(this->lock);
			if (this->instance && this->instance != instance && this->fd >= 0)
			{	/* the request connection is stale: reconnecting replays */
				close(this->fd);
				this->fd = -1;
			}
			this->failed_once = FALSE;
			ensure_connected(this);
			this->lock->unlock(this->lock);
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		oldstate = thread_cancelability(TRUE);
		rc = poll(&pfd, 1, 1000);
		thread_cancelability(oldstate);
		if (rc <= 0)
		{
			continue;
		}
		raw = chunk_empty;
		if (!recv_message(fd, &raw) || !wire_parse(raw, &reply))
		{
			DBG1(DBG_KNL, "ergw-ipsec: lost the fast path's event connection; reconnecting");
			chunk_free(&raw);
			close(fd);
			fd = -1;
			continue;
		}
		deliver_event(&reply);
		chunk_free(&raw);
	}
	return NULL;
}

METHOD(ergw_ipsec_channel_t, destroy, void,
	private_ergw_ipsec_channel_t *this)
{
	if (this->events)
	{
		this->events->cancel(this->events);
		this->events->join(this->events);
	}
	if (this->fd >= 0)
	{
		close(this->fd);
	}
	this->sas->destroy_function(this->sas, (void*)sa_entry_destroy);
	this->policies->destroy_function(this->policies, (void*)policy_entry_destroy);
	this->ike_sockets->destroy_function(this->ike_sockets, free);
	this->lock->destroy(this->lock);
	free(this->path);
	free(this);
}

ergw_ipsec_channel_t *ergw_ipsec_channel_create(const char *path, int timeout_ms)
{
	private_ergw_ipsec_channel_t *this;

	INIT(this,
		.public = {
			.request = _request,
			.query = _query,
			.remember_sa = _remember_sa,
			.remember_update = _remember_update,
			.forget_sa = _forget_sa,
			.remember_policy = _remember_policy,
			.forget_policy = _forget_policy,
			.remember_ike_socket = _remember_ike_socket,
			.release_ike_ports = _release_ike_ports,
			.forget_all_sas = _forget_all_sas,
			.forget_all_policies = _forget_all_policies,
			.destroy = _destroy,
		},
		.path = strdup(path),
		.timeout_ms = timeout_ms,
		.lock = mutex_create(MUTEX_TYPE_DEFAULT),
		.fd = -1,
		.sas = linked_list_create(),
		.policies = linked_list_create(),
		.ike_sockets = linked_list_create(),
	);
	this->events = thread_create((thread_main_t)event_loop, this);
	return &this->public;
}
