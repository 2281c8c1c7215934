// Byte encodings used by NATS nkeys: RFC 4648 base32 without padding (nkeys, jti) and the
// CRC16-XMODEM checksum nkeys append to every key. base64 (JWT segments) is chat/core/base64.hpp.
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

// CRC-16/XMODEM (poly 0x1021, init 0), as nkeys computes it over prefix + key bytes.
uint16_t Crc16(std::span<const uint8_t> data);

}  // namespace chat::nkeys
