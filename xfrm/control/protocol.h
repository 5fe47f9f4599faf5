/* The ergw-ipsec control protocol: how a kernel-ipsec backend (the ergw-ipsec
 * charon plugin) and ergwd talk to ergw-fastpath over its unix socket.
 * Documented in docs/ipsec-protocol.md; this header is the normative list of
 * numbers. Plain C so that the plugin (C, GPL-2.0-or-later) and the fast path
 * (C++, Apache-2.0) share it.
 *
 * A message is a 16-octet header followed by attributes; every integer is
 * little-endian:
 *
 *   u32 length    whole message, header included (16 .. ERGW_IPSEC_MAX_MESSAGE)
 *   u16 version   ERGW_IPSEC_PROTOCOL_VERSION
 *   u16 type      enum ergw_ipsec_message
 *   u32 sequence  chosen by the requester, echoed in the reply; 0 in events
 *   i32 status    replies: enum ergw_ipsec_status; requests and events: 0
 *
 * An attribute is u16 type, u16 value length, the value, then zero padding to
 * a multiple of 4 octets. Unknown attribute types are errors (a typo or a
 * newer peer must not be ignored silently); a repeated attribute is an error
 * unless the type says it may repeat.
 */
#ifndef ERGW_XFRM_CONTROL_PROTOCOL_H
#define ERGW_XFRM_CONTROL_PROTOCOL_H

/* 2: a replayed ADD_SA carries BYTES and PACKETS (what the client last
 * reported for the SA), which a version-1 fast path would have ignored. */
#define ERGW_IPSEC_PROTOCOL_VERSION 2
#define ERGW_IPSEC_HEADER_BYTES 16
#define ERGW_IPSEC_ATTRIBUTE_HEADER_BYTES 4
#define ERGW_IPSEC_MAX_MESSAGE 65536

/* Message types. Requests get exactly one reply of the same type. */
enum ergw_ipsec_message {
  ERGW_IPSEC_MSG_HELLO = 1,          /* NAME -> NAME, VERSION_TEXT, INSTANCE */
  ERGW_IPSEC_MSG_GET_SPI = 2,        /* SRC, DST, PROTO -> SPI */
  ERGW_IPSEC_MSG_ADD_SA = 3,         /* see docs/ipsec-protocol.md */
  ERGW_IPSEC_MSG_UPDATE_SA = 4,      /* SA id + NEW_SRC/NEW_DST/ports/ENCAP */
  ERGW_IPSEC_MSG_QUERY_SA = 5,       /* SA id -> BYTES, PACKETS, USE_TIME */
  ERGW_IPSEC_MSG_DEL_SA = 6,         /* SA id */
  ERGW_IPSEC_MSG_FLUSH_SAS = 7,
  ERGW_IPSEC_MSG_ADD_POLICY = 8,     /* policy id + type, priority, SA reference */
  ERGW_IPSEC_MSG_DEL_POLICY = 9,     /* policy id */
  ERGW_IPSEC_MSG_FLUSH_POLICIES = 10,
  ERGW_IPSEC_MSG_SUBSCRIBE = 11,     /* this connection receives EXPIRE/MAPPING events */
  ERGW_IPSEC_MSG_STATUS = 12,        /* -> STATUS_JSON (readiness, counters per connection) */
  ERGW_IPSEC_MSG_ADD_ROUTE = 13,     /* PREFIX, IF_ID: route-based selection */
  ERGW_IPSEC_MSG_DEL_ROUTE = 14,     /* PREFIX, IF_ID */
  ERGW_IPSEC_MSG_IKE_SOCKET = 15,    /* FAMILY, PORT: charon's NAT-T socket is bound */
  ERGW_IPSEC_MSG_RELEASE_IKE_PORTS = 16, /* a charon is starting: leave the NAT-T ports so it can bind them */
  /* Events, fast path -> subscriber; never answered. */
  ERGW_IPSEC_MSG_EXPIRE = 32,        /* PROTO, SPI, DST, HARD */
  ERGW_IPSEC_MSG_MAPPING = 33        /* PROTO, SPI, DST, NEW_SRC, NEW_SRC_PORT */
};

/* Attribute types. "addr" values are 4 (IPv4) or 16 (IPv6) octets in network
 * order; "ts" values are: u8 IP protocol (0 = any), u8 prefix length,
 * u16 from port, u16 to port, u16 zero, then 4 or 16 address octets. */
enum ergw_ipsec_attribute {
  ERGW_IPSEC_ATTR_SPI = 1,            /* u32 */
  ERGW_IPSEC_ATTR_PROTO = 2,          /* u8: 50 (ESP) */
  ERGW_IPSEC_ATTR_SRC = 3,            /* addr: outer source as the packet travels */
  ERGW_IPSEC_ATTR_DST = 4,            /* addr: outer destination */
  ERGW_IPSEC_ATTR_SRC_PORT = 5,       /* u16: with ENCAP */
  ERGW_IPSEC_ATTR_DST_PORT = 6,       /* u16: with ENCAP */
  ERGW_IPSEC_ATTR_ENCAP = 7,          /* u8 0/1: ESP-in-UDP (RFC 3948) */
  ERGW_IPSEC_ATTR_MARK = 8,           /* u32 value, u32 mask */
  ERGW_IPSEC_ATTR_IF_ID = 9,          /* u32 */
  ERGW_IPSEC_ATTR_REQID = 10,         /* u32 */
  ERGW_IPSEC_ATTR_MODE = 11,          /* u8: 2 tunnel (only tunnel is carried) */
  ERGW_IPSEC_ATTR_ENC_ALG = 12,       /* u16: IKEv2 transform id (RFC 7296 3.3.2) */
  ERGW_IPSEC_ATTR_ENC_KEY = 13,       /* octets (GCM: key || 4-octet salt) */
  ERGW_IPSEC_ATTR_INT_ALG = 14,       /* u16: IKEv2 integrity id, 0 for AEAD */
  ERGW_IPSEC_ATTR_INT_KEY = 15,       /* octets */
  ERGW_IPSEC_ATTR_ESN = 16,           /* u8 0/1 */
  ERGW_IPSEC_ATTR_REPLAY_WINDOW = 17, /* u32 packets */
  ERGW_IPSEC_ATTR_LIFETIME_SOFT = 18, /* u64 bytes, u64 packets, u64 seconds (0 = none) */
  ERGW_IPSEC_ATTR_LIFETIME_HARD = 19, /* same layout */
  ERGW_IPSEC_ATTR_INBOUND = 20,       /* u8 0/1 */
  ERGW_IPSEC_ATTR_UPDATE = 21,        /* u8 0/1: the SPI came from GET_SPI */
  ERGW_IPSEC_ATTR_INITIATOR = 22,     /* u8 0/1 */
  ERGW_IPSEC_ATTR_SRC_TS = 23,        /* ts, may repeat */
  ERGW_IPSEC_ATTR_DST_TS = 24,        /* ts, may repeat */
  ERGW_IPSEC_ATTR_DIRECTION = 25,     /* u8: 0 in, 1 out, 2 fwd */
  ERGW_IPSEC_ATTR_POLICY_TYPE = 26,   /* u8: 1 ipsec, 2 pass, 3 drop */
  ERGW_IPSEC_ATTR_PRIORITY = 27,      /* u32 */
  ERGW_IPSEC_ATTR_BYTES = 28,         /* u64: QUERY_SA reply; a replayed ADD_SA (last reported) */
  ERGW_IPSEC_ATTR_PACKETS = 29,       /* u64: same */
  ERGW_IPSEC_ATTR_USE_TIME = 30,      /* u64: CLOCK_MONOTONIC seconds of last use, 0 = never */
  ERGW_IPSEC_ATTR_HARD = 31,          /* u8 0/1 */
  ERGW_IPSEC_ATTR_ERROR_TEXT = 32,    /* UTF-8, no NUL */
  ERGW_IPSEC_ATTR_NAME = 33,          /* UTF-8, no NUL */
  ERGW_IPSEC_ATTR_NEW_SRC = 34,       /* addr */
  ERGW_IPSEC_ATTR_NEW_DST = 35,       /* addr */
  ERGW_IPSEC_ATTR_NEW_SRC_PORT = 36,  /* u16 */
  ERGW_IPSEC_ATTR_NEW_DST_PORT = 37,  /* u16 */
  ERGW_IPSEC_ATTR_NEW_ENCAP = 38,     /* u8 0/1 */
  ERGW_IPSEC_ATTR_PREFIX = 39,        /* ts (protocol and ports zero) */
  ERGW_IPSEC_ATTR_REPLAY = 40,        /* u8 1: re-sent after the fast path restarted */
  ERGW_IPSEC_ATTR_STATUS_JSON = 41,   /* UTF-8 JSON document */
  ERGW_IPSEC_ATTR_FAMILY = 42,        /* u8: 4 or 6 */
  ERGW_IPSEC_ATTR_PORT = 43,          /* u16 */
  ERGW_IPSEC_ATTR_VERSION_TEXT = 44,  /* UTF-8 */
  ERGW_IPSEC_ATTR_INSTANCE = 45       /* u64: random per fast-path process; a new value means it restarted */
};

/* Reply status. Mirrors what charon needs to tell apart. */
enum ergw_ipsec_status {
  ERGW_IPSEC_OK = 0,
  ERGW_IPSEC_E_INVALID = 1,      /* malformed message or bad value (ERROR_TEXT names it) */
  ERGW_IPSEC_E_NOT_FOUND = 2,    /* no such SA / policy */
  ERGW_IPSEC_E_EXISTS = 3,       /* SPI already in use */
  ERGW_IPSEC_E_UNSUPPORTED = 4,  /* algorithm, mode or feature the fast path does not carry */
  ERGW_IPSEC_E_VERSION = 5,      /* protocol version mismatch */
  ERGW_IPSEC_E_INTERNAL = 6
};

/* IKEv2 transform ids used in ENC_ALG / INT_ALG (RFC 7296 3.3.2, IANA). */
#define ERGW_IPSEC_ENCR_AES_CBC 12
#define ERGW_IPSEC_ENCR_AES_GCM_16 20
#define ERGW_IPSEC_AUTH_HMAC_SHA1_96 2
#define ERGW_IPSEC_AUTH_HMAC_SHA2_256_128 12
#define ERGW_IPSEC_AUTH_HMAC_SHA2_384_192 13

#endif /* ERGW_XFRM_CONTROL_PROTOCOL_H */
