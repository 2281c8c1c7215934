#include "crypto.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>

#include "chat/core/base64.hpp"

namespace chat::devidp {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

std::optional<std::string> BigNumParam(EVP_PKEY* pkey, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1 || raw == nullptr) return std::nullopt;
  std::unique_ptr<BIGNUM, BnDeleter> bn(raw);
  std::string out(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

std::string Sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  CHAT_CHECK(EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) == 1);
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  CHAT_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1);
  return out;
}

std::string RandomToken(size_t n) { return core::Base64UrlEncode(RandomBytes(n)); }

std::string Pbkdf2Sha256(std::string_view password, std::string_view salt, int iterations,
                         size_t length) {
  std::string out(length, '\0');
  CHAT_CHECK(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), Bytes(salt),
                               static_cast<int>(salt.size()), iterations, EVP_sha256(),
                               static_cast<int>(length),
                               reinterpret_cast<unsigned char*>(out.data())) == 1);
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string NameBasedUuid(std::string_view name) {
  // RFC 4122 Appendix C: NameSpace_URL 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
  static constexpr unsigned char kUrlNamespace[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad,
                                                      0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0,
                                                      0x4f, 0xd4, 0x30, 0xc8};
  std::string input(reinterpret_cast<const char*>(kUrlNamespace), sizeof(kUrlNamespace));
  input.append(name);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  CHAT_CHECK(EVP_Digest(input.data(), input.size(), md.data(), &len, EVP_sha1(), nullptr) == 1);
  md[6] = static_cast<unsigned char>((md[6] & 0x0F) | 0x50);  // version 5
  md[8] = static_cast<unsigned char>((md[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string out;
  char buf[3];
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    std::snprintf(buf, sizeof(buf), "%02x", md[i]);
    out += buf;
  }
  return out;
}

// ---- RsaKey ----

void RsaKey::PkeyDeleter::operator()(evp_pkey_st* p) const { EVP_PKEY_free(p); }

RsaKey::RsaKey(std::unique_ptr<evp_pkey_st, PkeyDeleter> pkey) : pkey_(std::move(pkey)) {}
RsaKey::RsaKey(RsaKey&&) noexcept = default;
RsaKey& RsaKey::operator=(RsaKey&&) noexcept = default;
RsaKey::~RsaKey() = default;

core::Status RsaKey::Init() {
  if (EVP_PKEY_get_base_id(pkey_.get()) != EVP_PKEY_RSA) {
    return core::InvalidArgument("key is not an RSA key");
  }
  if (EVP_PKEY_get_bits(pkey_.get()) < 2048) {
    return core::InvalidArgument("RSA key shorter than 2048 bits");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(pkey_.get(), &der);
  if (der_len <= 0 || der == nullptr) return core::Internal("cannot encode public key");
  std::string der_bytes(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  kid_ = core::Base64UrlEncode(Sha256(der_bytes)).substr(0, 16);
  auto n = BigNumParam(pkey_.get(), OSSL_PKEY_PARAM_RSA_N);
  auto e = BigNumParam(pkey_.get(), OSSL_PKEY_PARAM_RSA_E);
  if (!n || !e) return core::Internal("cannot read RSA public parameters");
  n_ = core::Base64UrlEncode(*n);
  e_ = core::Base64UrlEncode(*e);
  return core::Status::Ok();
}

core::Result<RsaKey> RsaKey::Generate(int bits) {
  EVP_PKEY* raw = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (raw == nullptr) return core::Internal("RSA key generation failed");
  RsaKey key{std::unique_ptr<evp_pkey_st, PkeyDeleter>(raw)};
  CHAT_RETURN_IF_ERROR(key.Init());
  return key;
}

core::Result<RsaKey> RsaKey::FromPrivatePem(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return core::Internal("BIO allocation failed");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) return core::InvalidArgument("not a PEM private key");
  RsaKey key{std::unique_ptr<evp_pkey_st, PkeyDeleter>(raw)};
  CHAT_RETURN_IF_ERROR(key.Init());
  return key;
}

std::string RsaKey::PrivatePem() const {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  CHAT_CHECK(bio != nullptr);
  CHAT_CHECK(
      PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

core::Result<std::string> RsaKey::SignRs256(std::string_view data) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx) return core::Internal("EVP_MD_CTX allocation failed");
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) != 1) {
    return core::Internal("EVP_DigestSignInit failed");
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(data), data.size()) != 1) {
    return core::Internal("EVP_DigestSign (size) failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(data),
                     data.size()) != 1) {
    return core::Internal("EVP_DigestSign failed");
  }
  sig.resize(len);
  return sig;
}

bool RsaKey::VerifyRs256(std::string_view data, std::string_view signature) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(data),
                          data.size()) == 1;
}

}  // namespace chat::devidp
