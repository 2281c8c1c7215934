// dev-idp form and query parsing (tools/dev-idp/form.hpp): every /auth, /token and /logout
// request body or query string goes through ParseForm before anything else looks at it.
// Accepted parameters never have an empty name, and no value decodes from a bad escape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "form.hpp"

namespace idp = chat::devidp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto params = idp::ParseForm(body);
  if (params.ok()) {
    for (const auto& [k, v] : *params) {
      if (k.empty()) std::abort();
    }
  }
  // A query string: what follows the first '?' of the request target.
  if (size_t q = body.find('?'); q != std::string_view::npos)
    (void)idp::ParseForm(body.substr(q + 1));
  (void)idp::PercentDecode(body);
  return 0;
}
