// The codec shape every wire struct follows (docs/style.md rule 2): `std::string ToJson(const T&)`
// writes canonical JSON (fixed key order, optional fields omitted when empty/zero/false), and
// `FromJson<T>(text)` parses without throwing, validates types, required fields and limits, and
// ignores unknown fields. Errors are invalid_argument naming the type and field, never a value.
// Each wire header declares its FromJson specialisations; this header only holds the template.
#pragma once

#include <string_view>

#include "chat/core/result.hpp"

namespace chat::contracts {

// Specialised for every wire struct; an unspecialised use fails to link.
template <typename T>
core::Result<T> FromJson(std::string_view json);

}  // namespace chat::contracts
