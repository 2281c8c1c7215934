// auth-service's JWKS parsing (services/auth/jwks.cpp ParseJwks): the document fetched from the
// configured issuer, whose keys then decide which tokens are genuine. Accepted keys always carry a
// kid, and verifying a signature with them never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "jwks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto keys = chat::auth_service::ParseJwks(text);
  if (!keys.ok()) return 0;
  if (keys->empty()) std::abort();
  for (const auto& [kid, key] : *keys) {
    if (kid.empty() || key == nullptr) std::abort();
    (void)key->VerifyRs256(text, text.substr(0, 256));
  }
  return 0;
}
