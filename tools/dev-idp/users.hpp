// UserDirectory: the realm's users (docs/system.md §2.6 by default, or a JSON file) and password
// checks. Only salted PBKDF2-HMAC-SHA256 hashes are kept in memory and comparison is constant
// time, even though the demo passwords are in the source: this is the pattern to copy. An unknown
// user costs the same hash as a known one, so timing does not reveal which usernames exist.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"

namespace chat::devidp {

struct User {
  std::string id;  // stable UUID (the token `sub`)
  std::string username;
  std::string email;
  std::string first_name;
  std::string last_name;
  std::vector<std::string> roles;  // explicit realm roles ("admin", "user"), may be empty
};

// Realm roles every Keycloak user holds through the default composite role; tokens list them
// after the explicit roles (the web client hides them, system.md §2.2).
inline constexpr std::string_view kDefaultRoles[] = {"default-roles-nats-chat", "offline_access",
                                                     "uma_authorization"};

enum class LoginFailure { kUnknownUser, kBadPassword };
std::string_view LoginFailureName(LoginFailure f);  // "unknown_user", "bad_password"

struct SeedUser {
  std::string username;
  std::string password;
  std::string first_name;
  std::string last_name;
  std::vector<std::string> roles;
  std::string email;  // empty → <username>@example.com
};

// The 13 users of system.md §2.6 (charlie and mike hold no role).
std::vector<SeedUser> DefaultSeedUsers();

class UserDirectory {
 public:
  // Hashes every password (`iterations` rounds each). Errors: invalid_argument for an empty or
  // duplicate username, a username with '.', '*', '>' or whitespace (it becomes a NATS subject
  // token, system.md §2.2), or an empty password.
  static core::Result<UserDirectory> Create(const std::vector<SeedUser>& seeds, int iterations);
  // JSON: {"users":[{"username","password","firstName","lastName","email"?,"roles":[…]}]} or
  // the bare array.
  static core::Result<std::vector<SeedUser>> ParseUsersJson(std::string_view json);

  struct AuthResult {
    const User* user = nullptr;           // set on success
    std::optional<LoginFailure> failure;  // set on failure
    const User* named = nullptr;          // the account `login` names, also on a bad password
  };
  // `login` is a username or an e-mail address (the realm allows login with e-mail);
  // usernames match case-insensitively, as in Keycloak.
  AuthResult Authenticate(std::string_view login, std::string_view password) const;

  // The account a typed login names (username or e-mail, case-insensitive), without hashing.
  const User* FindByLogin(std::string_view login) const;
  const User* FindByUsername(std::string_view username) const;
  const User* FindById(std::string_view id) const;
  const std::vector<User>& users() const { return users_; }
  // PBKDF2 computations so far (each Authenticate is one): what a login costs the server.
  uint64_t hashes_computed() const { return hashes_->load(); }

 private:
  struct Credential {
    std::string salt;
    std::string hash;
  };
  UserDirectory() = default;

  int iterations_ = 0;
  std::vector<User> users_;
  std::vector<Credential> credentials_;  // parallel to users_
  Credential dummy_;                     // burned on unknown users
  std::unique_ptr<std::atomic<uint64_t>> hashes_ = std::make_unique<std::atomic<uint64_t>>(0);
};

}  // namespace chat::devidp
