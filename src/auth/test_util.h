// Test helpers for the auth tests (header-only, tests only, never linked into
// the product): OpenSSL key generation, a JWS signer, JWK rendering, temp
// files and WaitUntil.
// Thread: free functions; the shared keys are built once (thread-safe statics).
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "registry/test_http_util.h"
#include "auth/key_set.h"
#include "base/base64.h"

namespace rte::auth::testing {

inline PkeyPtr GenerateKey(KeyType type) {
  switch (type) {
    case KeyType::kRsa: return PkeyPtr(EVP_RSA_gen(2048));
    case KeyType::kEcP256: return PkeyPtr(EVP_EC_gen("P-256"));
    case KeyType::kEcP384: return PkeyPtr(EVP_EC_gen("P-384"));
    case KeyType::kEd25519: return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    case KeyType::kHmac: break;
  }
  return nullptr;
}

// One key of each type per test binary (RSA generation is slow), plus a second
// one for "signed by another key" cases.
inline EVP_PKEY* SharedKey(KeyType type, int index = 0) {
  static PkeyPtr keys[2][5];
  static std::once_flag once;
  std::call_once(once, [] {
    for (auto& row : keys) {
      for (KeyType t : {KeyType::kRsa, KeyType::kEcP256, KeyType::kEcP384, KeyType::kEd25519}) {
        row[static_cast<int>(t)] = GenerateKey(t);
      }
    }
  });
  return keys[index][static_cast<int>(type)].get();
}

inline std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  std::string out(p, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

inline std::string CertificatePem(EVP_PKEY* key) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_PKEY_is_a(key, "ED25519") ? nullptr : EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  std::string out(p, static_cast<size_t>(n));
  BIO_free(bio);
  X509_free(cert);
  return out;
}

inline const EVP_MD* DigestOf(std::string_view alg) {
  if (alg.ends_with("256")) return EVP_sha256();
  if (alg.ends_with("384")) return EVP_sha384();
  if (alg.ends_with("512")) return EVP_sha512();
  return nullptr;  // EdDSA
}

// Signs `input` the JOSE way: HMAC for HS*, PKCS#1 v1.5 for RS*, raw R||S
// for ES*, Ed25519 for EdDSA.
inline std::string SignWithKey(std::string_view alg, EVP_PKEY* key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, DigestOf(alg), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg.starts_with("ES")) {
    const size_t coord = alg == "ES256" ? 32 : 48;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(2 * coord, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(coord));
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + coord, static_cast<int>(coord));
    ECDSA_SIG_free(es);
    return raw;
  }
  return sig;
}

inline std::string SignWithSecret(std::string_view alg, std::string_view secret, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(DigestOf(alg), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

inline std::string Join(std::string_view header_json, std::string_view payload_json) {
  return Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
}

// A compact JWS of these JSON texts, signed with `key` (asymmetric algs) or
// `secret` (HS*).
inline std::string MakeToken(std::string_view header_json, std::string_view payload_json,
                             std::string_view alg, EVP_PKEY* key, std::string_view secret = {}) {
  const std::string input = Join(header_json, payload_json);
  const std::string sig = alg.starts_with("HS") ? SignWithSecret(alg, secret, input)
                                                : SignWithKey(alg, key, input);
  return input + "." + Base64UrlEncode(sig);
}

inline std::string Bn(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// The public JWK of `key` as a JSON object.
inline boost::json::object Jwk(EVP_PKEY* key, std::string_view kid) {
  boost::json::object o;
  if (!kid.empty()) o["kid"] = kid;
  if (EVP_PKEY_is_a(key, "RSA")) {
    o["kty"] = "RSA";
    o["n"] = Base64UrlEncode(Bn(key, OSSL_PKEY_PARAM_RSA_N));
    o["e"] = Base64UrlEncode(Bn(key, OSSL_PKEY_PARAM_RSA_E));
  } else if (EVP_PKEY_is_a(key, "EC")) {
    const bool p256 = EVP_PKEY_get_bits(key) == 256;
    const size_t coord = p256 ? 32 : 48;
    unsigned char point[1 + 2 * 48];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
    o["kty"] = "EC";
    o["crv"] = p256 ? "P-256" : "P-384";
    o["x"] = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(point) + 1, coord));
    o["y"] = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(point) + 1 + coord, coord));
  } else {
    unsigned char raw[32];
    size_t len = sizeof raw;
    EVP_PKEY_get_raw_public_key(key, raw, &len);
    o["kty"] = "OKP";
    o["crv"] = "Ed25519";
    o["x"] = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(raw), len));
  }
  return o;
}

inline std::string Jwks(std::initializer_list<boost::json::object> keys) {
  boost::json::array a;
  for (const auto& k : keys) a.push_back(k);
  return boost::json::serialize(boost::json::object{{"keys", a}});
}

// Polls a condition with a bound (shared with the registry tests).
using registry::testing::WaitUntil;

// A file in a fresh temp directory, removed with it.
class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    char tmpl[] = "/tmp/rte_auth_testXXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/file";
    Write(content);
  }
  ~TempFile() {
    std::remove(path_.c_str());
    std::remove((path_ + ".tmp").c_str());
    rmdir(dir_.c_str());
  }
  // Atomic replace (new inode), as an operator would do it.
  void Write(std::string_view content) {
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << content;
    std::rename(tmp.c_str(), path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

// A tiny HTTP/1.1 server on 127.0.0.1 (port chosen by the OS) answering
// every GET with the current status and body, one request per connection.
// Thread: its own io_context thread; Set and the accessors from any thread.
class TestHttpServer {
 public:
  TestHttpServer() : acceptor_(ioc_, {boost::asio::ip::address_v4::loopback(), 0}) {
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(ioc_, Accept(), boost::asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestHttpServer() {
    ioc_.stop();
    thread_.join();
  }

  void Set(unsigned status, std::string body) {
    std::lock_guard lock(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  uint64_t requests() const { return requests_.load(); }
  std::string last_target() const {
    std::lock_guard lock(mu_);
    return last_target_;
  }
  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  uint16_t port() const { return port_; }

 private:
  boost::asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      boost::asio::co_spawn(ioc_, Serve(std::move(socket)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(socket, buffer, req, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
    http::response<http::string_body> res;
    {
      std::lock_guard lock(mu_);
      last_target_ = std::string(req.target());
      res.result(status_);
      res.body() = body_;
    }
    requests_.fetch_add(1);
    res.version(11);
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.prepare_payload();
    co_await http::async_write(socket, res, boost::asio::as_tuple(boost::asio::use_awaitable));
    boost::system::error_code ignored;
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  unsigned status_ = 200;
  std::string body_;
  std::string last_target_;
  std::atomic<uint64_t> requests_{0};
};

}  // namespace rte::auth::testing
