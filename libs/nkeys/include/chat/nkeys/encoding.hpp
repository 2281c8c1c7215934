// Byte encodings used by NATS nkeys and JWTs: RFC 4648 base32 without padding (nkeys, jti),
// base64url without padding (JWT segments), standard base64 (signatures in tests and tools),
// and the CRC16-XMODEM checksum nkeys append to every key.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"

namespace chat::nkeys {

using Bytes = std::vector<uint8_t>;

std::string Base32Encode(std::span<const uint8_t> data);
// Accepts upper-case RFC 4648 alphabet without padding; anything else is invalid_argument.
core::Result<Bytes> Base32Decode(std::string_view text);

std::string Base64UrlEncode(std::span<const uint8_t> data);
inline std::string Base64UrlEncode(std::string_view data) {
  return Base64UrlEncode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}
// Accepts base64url with or without padding (the Go library decodes either way for JWTs).
core::Result<Bytes> Base64UrlDecode(std::string_view text);

std::string Base64StdEncode(std::span<const uint8_t> data);

// CRC-16/XMODEM (poly 0x1021, init 0), as nkeys computes it over prefix + key bytes.
uint16_t Crc16(std::span<const uint8_t> data);

}  // namespace chat::nkeys
