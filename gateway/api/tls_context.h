// The API's TLS: TLS 1.2 and 1.3 only, forward-secret AEAD suites for 1.2,
// no renegotiation or compression; the server's certificate from files, or
// generated at first start (ECDSA P-256, self-signed, kept in the state
// directory with its key at mode 0600) and its SHA-256 fingerprint logged so
// that clients can pin it. With a client CA, every client must present a
// certificate that CA signed (mutual TLS), in addition to its API key.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "common/result.h"

namespace ergw::api {

struct TlsOptions {
  std::string certificate_file;  // PEM; generated here when it does not exist
  std::string key_file;          // PEM; generated with the certificate
  std::string client_ca_file;    // empty: no client certificates asked for
  // Names and addresses the generated certificate is made for.
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
};

struct TlsSetup {
  std::unique_ptr<boost::asio::ssl::context> context;
  std::string fingerprint;  // SHA-256 of the certificate, "AB:CD:..."
  bool generated = false;
};

Result<TlsSetup> make_tls_context(const TlsOptions& options);

// Writes a new self-signed certificate and key (exposed for tests).
Status generate_self_signed(const TlsOptions& options);

}  // namespace ergw::api
