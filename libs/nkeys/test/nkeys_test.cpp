#include "chat/nkeys/nkeys.hpp"

#include <gtest/gtest.h>

#include "chat/core/base64.hpp"

namespace chat::nkeys {
namespace {

// Vector shared by the nkeys ports (Go, Python, Ruby, Elixir test suites).
constexpr std::string_view kKnownSeed =
    "SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU";
constexpr std::string_view kKnownPublic =
    "UCK5N7N66OBOINFXAYC2ACJQYFSOD4VYNU6APEJTAVFZB2SVHLKGEW7L";
constexpr std::string_view kKnownNonce = "PXoWU7zWAMt75FY";
constexpr std::string_view kKnownSignatureB64 =
    "ZaAiVDgB5CeYoXoQ7cBCmq+ZllzUnGUoDVb8C7PilWvCs8XKfUchAUhz2P4BYAF++Dg3w05CqyQFRDiGL6LrDw==";

TEST(NKeys, KnownSeedGivesKnownPublicKeyAndSignature) {
  auto kp = KeyPair::FromSeed(kKnownSeed);
  ASSERT_TRUE(kp.ok()) << kp.status().ToString();
  EXPECT_EQ(kp->type(), KeyType::kUser);
  EXPECT_EQ(kp->public_key(), kKnownPublic);
  EXPECT_EQ(kp->Seed(), kKnownSeed);
  auto sig = kp->Sign(kKnownNonce);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(core::Base64StdEncode(*sig), kKnownSignatureB64);
  EXPECT_TRUE(Verify(kKnownPublic, kKnownNonce, *sig).ok());
}

TEST(NKeys, KnownAccountPublicKeyDecodes) {
  // Account key used by the Go nkeys tests and the reference auth callout config.
  for (std::string_view key : {"AACKDD7DWAJM2K76WMDHTHTIN2WZLKA7MGSLNHIHSZ3ZRSEBZG6GWECF",
                               "ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOBYQGUWVLA"}) {
    auto decoded = DecodePublicKey(key);
    ASSERT_TRUE(decoded.ok()) << key;
    EXPECT_EQ(decoded->type, KeyType::kAccount);
    EXPECT_EQ(EncodePublicKey(KeyType::kAccount, decoded->raw), key);
  }
}

TEST(NKeys, GeneratedKeysRoundTripForEveryType) {
  for (KeyType type : {KeyType::kOperator, KeyType::kAccount, KeyType::kUser}) {
    auto kp = KeyPair::Generate(type);
    ASSERT_TRUE(kp.ok());
    EXPECT_EQ(kp->public_key().size(), 56u);
    EXPECT_EQ(kp->public_key()[0], KeyTypeLetter(type));
    std::string seed = kp->Seed();
    EXPECT_EQ(seed.size(), 58u);
    EXPECT_EQ(seed[0], 'S');
    EXPECT_EQ(seed[1], KeyTypeLetter(type));
    auto again = KeyPair::FromSeed(seed);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->type(), type);
    EXPECT_EQ(again->public_key(), kp->public_key());
    EXPECT_TRUE(IsValidPublicKey(kp->public_key(), type));
    EXPECT_FALSE(IsValidPublicKey(kp->public_key(),
                                  type == KeyType::kUser ? KeyType::kAccount : KeyType::kUser));
  }
}

TEST(NKeys, ChecksumAndPrefixFailuresAreRejected) {
  std::string bad(kKnownPublic);
  bad[10] = bad[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(DecodePublicKey(bad).status().code(), core::ErrorCode::kInvalidArgument);
  std::string bad_seed(kKnownSeed);
  bad_seed[20] = bad_seed[20] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(KeyPair::FromSeed(bad_seed).ok());
  // Leading letter dropped (bad padding) and altered prefix, as in the Go suite.
  EXPECT_FALSE(KeyPair::FromSeed(kKnownSeed.substr(1)).ok());
  EXPECT_FALSE(KeyPair::FromSeed("A" + std::string(kKnownSeed.substr(1))).ok());
  EXPECT_FALSE(KeyPair::FromSeed("").ok());
  // A public key is not a seed and vice versa.
  EXPECT_FALSE(KeyPair::FromSeed(kKnownPublic).ok());
  EXPECT_FALSE(DecodePublicKey(kKnownSeed).ok());
}

TEST(NKeys, VerifyRejectsTamperedDataAndOtherKeys) {
  auto kp = KeyPair::Generate(KeyType::kAccount);
  auto other = KeyPair::Generate(KeyType::kAccount);
  ASSERT_TRUE(kp.ok() && other.ok());
  auto sig = kp->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Verify(kp->public_key(), "payload", *sig).ok());
  EXPECT_EQ(Verify(kp->public_key(), "payload!", *sig).code(), core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(Verify(other->public_key(), "payload", *sig).code(), core::ErrorCode::kUnauthenticated);
  Bytes short_sig(sig->begin(), sig->begin() + 10);
  EXPECT_FALSE(Verify(kp->public_key(), "payload", short_sig).ok());
}

}  // namespace
}  // namespace chat::nkeys
