// Cryptographic building blocks of the development identity provider, on the OpenSSL 3 EVP API:
// SHA-256, random tokens (base64url, chat/core/base64.hpp), PBKDF2 password hashing with
// constant-time comparison, name-based UUIDs for stable subject ids, and RsaKey (RS256 signing and
// verification, PEM persistence, JWK export). Nothing here logs; nothing here throws.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chat/core/result.hpp"

struct evp_pkey_st;

namespace chat::devidp {

std::string Sha256(std::string_view data);  // 32 raw bytes

// Cryptographically random bytes (RAND_bytes); CHAT_CHECKs success (a broken RNG is fatal).
std::string RandomBytes(size_t n);
// base64url of `n` random bytes: codes, session ids, jti values.
std::string RandomToken(size_t n = 32);

// PBKDF2-HMAC-SHA256 of `password` with `salt`, producing `length` bytes.
std::string Pbkdf2Sha256(std::string_view password, std::string_view salt, int iterations,
                         size_t length = 32);

// Compares in time that depends only on the lengths, never on where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// RFC 4122 version-5 (SHA-1, name-based) UUID of `name` in the URL namespace, lowercase
// "8-4-4-4-12" form: the same user gets the same `sub` on every start, like an imported realm.
std::string NameBasedUuid(std::string_view name);

// An RSA private key with its key id. Immutable after construction; safe to share across threads.
class RsaKey {
 public:
  static core::Result<RsaKey> Generate(int bits = 2048);
  static core::Result<RsaKey> FromPrivatePem(std::string_view pem);

  RsaKey(RsaKey&&) noexcept;
  RsaKey& operator=(RsaKey&&) noexcept;
  ~RsaKey();
  RsaKey(const RsaKey&) = delete;
  RsaKey& operator=(const RsaKey&) = delete;

  // PKCS#8 PEM of the private key (what is written to the state dir).
  std::string PrivatePem() const;
  // base64url of the SHA-256 of the SubjectPublicKeyInfo DER, first 16 characters.
  const std::string& kid() const { return kid_; }
  // JWK members (base64url, unpadded, big-endian without leading zeros).
  const std::string& n() const { return n_; }
  const std::string& e() const { return e_; }

  // RSASSA-PKCS1-v1_5 with SHA-256 (JWS "RS256").
  core::Result<std::string> SignRs256(std::string_view data) const;
  bool VerifyRs256(std::string_view data, std::string_view signature) const;

 private:
  struct PkeyDeleter {
    void operator()(evp_pkey_st* p) const;
  };
  explicit RsaKey(std::unique_ptr<evp_pkey_st, PkeyDeleter> pkey);
  core::Status Init();

  std::unique_ptr<evp_pkey_st, PkeyDeleter> pkey_;
  std::string kid_;
  std::string n_;
  std::string e_;
};

}  // namespace chat::devidp
