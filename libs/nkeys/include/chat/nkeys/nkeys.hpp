// NATS nkeys: Ed25519 key pairs whose public keys and seeds are text with a type prefix
// ("O…", "A…", "U…"; seeds "SO…", "SA…", "SU…") and a CRC16 checksum, exactly as the Go
// nkeys library encodes them, so nats-server and libnats accept what we generate.
// Signing uses OpenSSL 3. A KeyPair wipes its seed on destruction.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "chat/core/result.hpp"
#include "chat/nkeys/encoding.hpp"

namespace chat::nkeys {

enum class KeyType { kOperator, kAccount, kUser, kServer, kCluster };

// "operator", "account", "user", "server", "cluster".
std::string_view KeyTypeName(KeyType type);
// The letter a public key of this type starts with ('O', 'A', 'U', 'N', 'C').
char KeyTypeLetter(KeyType type);

using RawKey = std::array<uint8_t, 32>;

struct DecodedKey {
  KeyType type;
  RawKey raw;  // public key for DecodePublicKey, the 32-byte Ed25519 seed for DecodeSeed
};

std::string EncodePublicKey(KeyType type, const RawKey& raw_public_key);
std::string EncodeSeed(KeyType type, const RawKey& raw_seed);
// Fail with invalid_argument on bad base32, wrong length, unknown prefix or checksum mismatch.
core::Result<DecodedKey> DecodePublicKey(std::string_view public_key);
core::Result<DecodedKey> DecodeSeed(std::string_view seed);
bool IsValidPublicKey(std::string_view public_key, KeyType type);

class KeyPair {
 public:
  static core::Result<KeyPair> Generate(KeyType type);
  static core::Result<KeyPair> FromSeed(std::string_view seed);
  static core::Result<KeyPair> FromRawSeed(KeyType type, const RawKey& raw_seed);

  KeyPair(const KeyPair&) = default;
  KeyPair& operator=(const KeyPair&) = default;
  KeyPair(KeyPair&&) = default;
  KeyPair& operator=(KeyPair&&) = default;
  ~KeyPair();

  KeyType type() const { return type_; }
  // Encoded public key ("U…"); safe to log.
  const std::string& public_key() const { return public_key_; }
  // Encoded seed ("SU…"). A secret: never log it.
  std::string Seed() const;
  // Raw 64-byte Ed25519 signature.
  core::Result<Bytes> Sign(std::string_view data) const;

 private:
  KeyPair(KeyType type, const RawKey& seed, std::string public_key)
      : type_(type), seed_(seed), public_key_(std::move(public_key)) {}

  KeyType type_;
  RawKey seed_;
  std::string public_key_;
};

// OK when `signature` (raw 64 bytes) is a valid signature of `data` by `public_key`;
// unauthenticated when it is not; invalid_argument when the key does not decode.
core::Status Verify(std::string_view public_key, std::string_view data,
                    std::span<const uint8_t> signature);

}  // namespace chat::nkeys
