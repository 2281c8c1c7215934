#include "chat/nkeys/nkeys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>

namespace chat::nkeys {
namespace {

// Prefix bytes from the nkeys spec: the top 5 bits select the base32 letter.
constexpr uint8_t kPrefixSeed = 18 << 3;      // 'S'
constexpr uint8_t kPrefixOperator = 14 << 3;  // 'O'
constexpr uint8_t kPrefixAccount = 0;         // 'A'
constexpr uint8_t kPrefixUser = 20 << 3;      // 'U'
constexpr uint8_t kPrefixServer = 13 << 3;    // 'N'
constexpr uint8_t kPrefixCluster = 2 << 3;    // 'C'

uint8_t PrefixOf(KeyType type) {
  switch (type) {
    case KeyType::kOperator: return kPrefixOperator;
    case KeyType::kAccount: return kPrefixAccount;
    case KeyType::kUser: return kPrefixUser;
    case KeyType::kServer: return kPrefixServer;
    case KeyType::kCluster: return kPrefixCluster;
  }
  return kPrefixUser;
}

std::optional<KeyType> TypeOfPrefix(uint8_t prefix) {
  switch (prefix) {
    case kPrefixOperator: return KeyType::kOperator;
    case kPrefixAccount: return KeyType::kAccount;
    case kPrefixUser: return KeyType::kUser;
    case kPrefixServer: return KeyType::kServer;
    case kPrefixCluster: return KeyType::kCluster;
    default: return std::nullopt;
  }
}

std::string EncodeWithChecksum(Bytes raw) {
  uint16_t crc = Crc16(raw);
  raw.push_back(static_cast<uint8_t>(crc & 0xFF));  // little-endian, as nkeys writes it
  raw.push_back(static_cast<uint8_t>(crc >> 8));
  std::string text = Base32Encode(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return text;
}

// Decodes and strips the checksum; the returned bytes are prefix byte(s) + key.
core::Result<Bytes> DecodeWithChecksum(std::string_view text) {
  CHAT_ASSIGN_OR_RETURN(Bytes raw, Base32Decode(text));
  if (raw.size() < 4) return core::InvalidArgument("nkey too short");
  auto got = static_cast<uint16_t>(raw[raw.size() - 2] | (raw[raw.size() - 1] << 8));
  raw.resize(raw.size() - 2);
  if (Crc16(raw) != got) {
    OPENSSL_cleanse(raw.data(), raw.size());
    return core::InvalidArgument("nkey checksum mismatch");
  }
  return raw;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

core::Result<RawKey> PublicFromSeed(const RawKey& seed) {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!pkey) return core::Internal("ed25519: cannot load private key");
  RawKey pub{};
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), pub.data(), &len) != 1 || len != pub.size()) {
    return core::Internal("ed25519: cannot derive public key");
  }
  return pub;
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kOperator: return "operator";
    case KeyType::kAccount: return "account";
    case KeyType::kUser: return "user";
    case KeyType::kServer: return "server";
    case KeyType::kCluster: return "cluster";
  }
  return "unknown";
}

char KeyTypeLetter(KeyType type) {
  switch (type) {
    case KeyType::kOperator: return 'O';
    case KeyType::kAccount: return 'A';
    case KeyType::kUser: return 'U';
    case KeyType::kServer: return 'N';
    case KeyType::kCluster: return 'C';
  }
  return '?';
}

std::string EncodePublicKey(KeyType type, const RawKey& raw_public_key) {
  Bytes raw;
  raw.reserve(35);
  raw.push_back(PrefixOf(type));
  raw.insert(raw.end(), raw_public_key.begin(), raw_public_key.end());
  return EncodeWithChecksum(std::move(raw));
}

std::string EncodeSeed(KeyType type, const RawKey& raw_seed) {
  // Two prefix bytes: 'S' in the top five bits of the first, the key type's five bits split
  // across the remaining bits, so the text reads "S" + type letter.
  uint8_t prefix = PrefixOf(type);
  Bytes raw;
  raw.reserve(36);
  raw.push_back(static_cast<uint8_t>(kPrefixSeed | (prefix >> 5)));
  raw.push_back(static_cast<uint8_t>((prefix & 31) << 3));
  raw.insert(raw.end(), raw_seed.begin(), raw_seed.end());
  return EncodeWithChecksum(std::move(raw));
}

core::Result<DecodedKey> DecodePublicKey(std::string_view public_key) {
  CHAT_ASSIGN_OR_RETURN(Bytes raw, DecodeWithChecksum(public_key));
  if (raw.size() != 33) return core::InvalidArgument("public nkey has the wrong length");
  auto type = TypeOfPrefix(raw[0]);
  if (!type) return core::InvalidArgument("public nkey has an unknown prefix");
  DecodedKey out{*type, {}};
  std::copy(raw.begin() + 1, raw.end(), out.raw.begin());
  return out;
}

core::Result<DecodedKey> DecodeSeed(std::string_view seed) {
  CHAT_ASSIGN_OR_RETURN(Bytes raw, DecodeWithChecksum(seed));
  if (raw.size() != 34) {
    OPENSSL_cleanse(raw.data(), raw.size());
    return core::InvalidArgument("nkey seed has the wrong length");
  }
  uint8_t b1 = raw[0] & 248;
  auto prefix = static_cast<uint8_t>(((raw[0] & 7) << 5) | ((raw[1] & 248) >> 3));
  auto type = TypeOfPrefix(prefix);
  if (b1 != kPrefixSeed || !type) {
    OPENSSL_cleanse(raw.data(), raw.size());
    return core::InvalidArgument("nkey seed has an invalid prefix");
  }
  DecodedKey out{*type, {}};
  std::copy(raw.begin() + 2, raw.end(), out.raw.begin());
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

bool IsValidPublicKey(std::string_view public_key, KeyType type) {
  auto decoded = DecodePublicKey(public_key);
  return decoded.ok() && decoded->type == type;
}

core::Result<KeyPair> KeyPair::Generate(KeyType type) {
  RawKey seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return core::Internal("no randomness for a new nkey");
  }
  auto kp = FromRawSeed(type, seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  return kp;
}

core::Result<KeyPair> KeyPair::FromSeed(std::string_view seed) {
  CHAT_ASSIGN_OR_RETURN(DecodedKey decoded, DecodeSeed(seed));
  auto kp = FromRawSeed(decoded.type, decoded.raw);
  OPENSSL_cleanse(decoded.raw.data(), decoded.raw.size());
  return kp;
}

core::Result<KeyPair> KeyPair::FromRawSeed(KeyType type, const RawKey& raw_seed) {
  CHAT_ASSIGN_OR_RETURN(RawKey pub, PublicFromSeed(raw_seed));
  return KeyPair(type, raw_seed, EncodePublicKey(type, pub));
}

KeyPair::~KeyPair() { OPENSSL_cleanse(seed_.data(), seed_.size()); }

std::string KeyPair::Seed() const { return EncodeSeed(type_, seed_); }

core::Result<Bytes> KeyPair::Sign(std::string_view data) const {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()));
  if (!pkey) return core::Internal("ed25519: cannot load private key");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return core::Internal("ed25519: sign init failed");
  }
  Bytes sig(64);
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const uint8_t*>(data.data()),
                     data.size()) != 1 ||
      len != 64) {
    return core::Internal("ed25519: sign failed");
  }
  return sig;
}

core::Status Verify(std::string_view public_key, std::string_view data,
                    std::span<const uint8_t> signature) {
  CHAT_ASSIGN_OR_RETURN(DecodedKey decoded, DecodePublicKey(public_key));
  if (signature.size() != 64) return core::Unauthenticated("signature has the wrong length");
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, decoded.raw.data(),
                                           decoded.raw.size()));
  if (!pkey) return core::InvalidArgument("ed25519: cannot load public key");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return core::Internal("ed25519: verify init failed");
  }
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                            reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (rc != 1) return core::Unauthenticated("signature does not verify");
  return core::Status::Ok();
}

}  // namespace chat::nkeys
