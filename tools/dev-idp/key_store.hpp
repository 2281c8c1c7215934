// KeyStore: the issuer's RSA signing keys, persisted in the state directory so tokens stay
// verifiable across restarts. Layout: <dir>/keys/<kid>.pem (0600, PKCS#8) for every published
// key and <dir>/signing-kid naming the one that signs. Rotation adds a key and switches signing
// to it while the old keys stay in the JWKS, which is how auth-service's "refresh the JWKS on an
// unknown kid" path gets exercised. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chat/core/result.hpp"
#include "crypto.hpp"

namespace chat::devidp {

class KeyStore {
 public:
  struct OpenOutcome {
    std::unique_ptr<KeyStore> store;
    bool generated = false;  // no key existed: a new one was created
  };

  // Creates `dir` (0700) and keys/ when missing, loads every key, and generates the first key
  // when there is none. Errors: unavailable (filesystem), invalid_argument (a corrupt key file or
  // a signing-kid that names no key).
  static core::Result<OpenOutcome> Open(const std::string& dir);

  // Generates a key, persists it, and makes it the signing key. Returns the new kid.
  core::Result<std::string> Rotate();

  std::shared_ptr<const RsaKey> SigningKey() const;
  // Every published key, signing key first.
  std::vector<std::shared_ptr<const RsaKey>> PublishedKeys() const;
  // nullptr when no published key has this kid.
  std::shared_ptr<const RsaKey> Find(std::string_view kid) const;

 private:
  explicit KeyStore(std::string dir) : dir_(std::move(dir)) {}
  core::Result<std::shared_ptr<const RsaKey>> GenerateAndPersist();
  core::Status WriteSigningKid(const std::string& kid);

  const std::string dir_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const RsaKey>> keys_;  // signing key first
};

}  // namespace chat::devidp
