// Test helpers shared by the registry tests (header-only, tests only): a tiny
// synchronous HTTP client independent of HttpClient, and WaitUntil, which
// polls a condition until it holds or a deadline passes.
// Thread: free functions; each call uses its own socket.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "registry/http_client.h"

namespace rte::registry::testing {

struct RawResponse {
  unsigned status = 0;  // 0: transport error
  std::string body;
  std::string www_authenticate;
  std::string error;
};

inline RawResponse RawRequest(uint16_t port, boost::beast::http::verb method,
                              const std::string& target, const std::string& body = "",
                              const std::string& user_info = "") {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  RawResponse out;
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(10));
  stream.socket().connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/vnd.schemaregistry.v1+json");
  if (!user_info.empty()) req.set(http::field::authorization, BasicAuthValue(user_info));
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  out.status = res.result_int();
  out.body = res.body();
  out.www_authenticate = std::string(res[http::field::www_authenticate]);
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return out;
}

// Polls `condition` every few milliseconds; true as soon as it holds, false
// if `timeout` passes first. For waiting on other threads, never for timing.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed P-256 certificate valid for one day, for DNS name `dns_name`.
// Empty PEMs if OpenSSL fails.
inline TestCertificate MakeSelfSignedCertificate(const std::string& dns_name) {
  TestCertificate out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (!key || !cert) return out;
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(dns_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  const std::string san = "DNS:" + dns_name;
  if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str())) {
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert, key, EVP_sha256()) > 0) {
    BIO* cb = BIO_new(BIO_s_mem());
    BIO* kb = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cb, cert);
    PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* p = nullptr;
    long n = BIO_get_mem_data(cb, &p);
    out.cert_pem.assign(p, static_cast<size_t>(n));
    n = BIO_get_mem_data(kb, &p);
    out.key_pem.assign(p, static_cast<size_t>(n));
    BIO_free(cb);
    BIO_free(kb);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace rte::registry::testing
