// nkeys, NATS JWTs and .creds files (libs/nkeys): what natskeys, auth-service and every service
// read from files and the wire. Each decoder gets the same bytes; an accepted seed must give a
// key pair whose public key decodes. Input that starts with '{' is also taken as
// "<header JSON>\n<claims JSON>" and base64url-encoded into a JWT, so the fuzzer reaches the
// JSON fields behind the encoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat/core/base64.hpp"
#include "chat/nkeys/encoding.hpp"
#include "chat/nkeys/jwt.hpp"
#include "chat/nkeys/nkeys.hpp"

namespace nk = chat::nkeys;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)nk::DecodePublicKey(text);
  if (nk::DecodeSeed(text).ok()) {
    auto pair = nk::KeyPair::FromSeed(text);
    if (!pair.ok() || !nk::DecodePublicKey(pair->public_key()).ok()) std::abort();
  }
  if (auto b32 = nk::Base32Decode(text); b32.ok()) (void)nk::Base32Encode(*b32);
  if (auto b64 = chat::core::Base64UrlDecode(text); b64.ok()) {
    (void)chat::core::Base64UrlEncode(*b64);
  }
  (void)nk::DecodeAndVerifyJwt(text);
  if (!text.empty() && text.front() == '{') {
    size_t nl = text.find('\n');
    std::string_view header = text.substr(0, nl);
    std::string_view claims = nl == std::string_view::npos ? "{}" : text.substr(nl + 1);
    (void)nk::DecodeAndVerifyJwt(chat::core::Base64UrlEncode(header) + "." +
                                 chat::core::Base64UrlEncode(claims) + ".c2ln");
  }
  (void)nk::ParseUserCreds(text);
  return 0;
}
