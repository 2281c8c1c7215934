#include "users.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "crypto.hpp"

namespace chat::devidp {
namespace {

constexpr size_t kSaltBytes = 16;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ValidUsername(std::string_view u) {
  if (u.empty() || u.size() > 64) return false;
  return std::none_of(u.begin(), u.end(), [](char c) {
    return c == '.' || c == '*' || c == '>' || std::isspace(static_cast<unsigned char>(c)) ||
           std::iscntrl(static_cast<unsigned char>(c));
  });
}

}  // namespace

std::string_view LoginFailureName(LoginFailure f) {
  switch (f) {
    case LoginFailure::kUnknownUser: return "unknown_user";
    case LoginFailure::kBadPassword: return "bad_password";
  }
  return "unknown_user";
}

std::vector<SeedUser> DefaultSeedUsers() {
  // docs/system.md §2.6, verbatim.
  return {
      {"alice", "alice123", "Alice", "Admin", {"admin", "user"}, ""},
      {"bob", "bob123", "Bob", "User", {"user"}, ""},
      {"charlie", "charlie123", "Charlie", "Observer", {}, ""},
      {"diana", "diana123", "Diana", "Manager", {"admin", "user"}, ""},
      {"evan", "evan123", "Evan", "Developer", {"user"}, ""},
      {"fiona", "fiona123", "Fiona", "Designer", {"user"}, ""},
      {"george", "george123", "George", "Engineer", {"user"}, ""},
      {"hannah", "hannah123", "Hannah", "Analyst", {"user"}, ""},
      {"ivan", "ivan123", "Ivan", "Tester", {"user"}, ""},
      {"julia", "julia123", "Julia", "Lead", {"admin", "user"}, ""},
      {"kevin", "kevin123", "Kevin", "Ops", {"user"}, ""},
      {"laura", "laura123", "Laura", "Support", {"user"}, ""},
      {"mike", "mike123", "Mike", "Intern", {}, ""},
  };
}

core::Result<UserDirectory> UserDirectory::Create(const std::vector<SeedUser>& seeds,
                                                  int iterations) {
  if (iterations < 1) return core::InvalidArgument("PBKDF2 iterations must be positive");
  UserDirectory dir;
  dir.iterations_ = iterations;
  std::set<std::string> names;
  for (const auto& s : seeds) {
    if (!ValidUsername(s.username)) {
      return core::InvalidArgument("invalid username \"" + s.username + "\"");
    }
    std::string lower = Lower(s.username);
    if (!names.insert(lower).second) {
      return core::InvalidArgument("duplicate username \"" + s.username + "\"");
    }
    if (s.password.empty()) {
      return core::InvalidArgument("user \"" + s.username + "\" has an empty password");
    }
    User u;
    u.username = lower;  // Keycloak stores usernames in lowercase
    u.id = NameBasedUuid("nats-chat/users/" + lower);
    u.email = s.email.empty() ? lower + "@example.com" : Lower(s.email);
    u.first_name = s.first_name;
    u.last_name = s.last_name;
    u.roles = s.roles;
    Credential c;
    c.salt = RandomBytes(kSaltBytes);
    c.hash = Pbkdf2Sha256(s.password, c.salt, iterations);
    dir.users_.push_back(std::move(u));
    dir.credentials_.push_back(std::move(c));
  }
  dir.dummy_.salt = RandomBytes(kSaltBytes);
  dir.dummy_.hash = RandomBytes(32);
  return dir;
}

core::Result<std::vector<SeedUser>> UserDirectory::ParseUsersJson(std::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return core::InvalidArgument("users file is not valid JSON");
  const nlohmann::json* list = &doc;
  if (doc.is_object()) {
    auto it = doc.find("users");
    if (it == doc.end()) return core::InvalidArgument("users file has no \"users\" array");
    list = &*it;
  }
  if (!list->is_array()) return core::InvalidArgument("\"users\" is not an array");
  std::vector<SeedUser> out;
  for (const auto& item : *list) {
    if (!item.is_object()) return core::InvalidArgument("a user entry is not an object");
    auto str = [&](const char* key) -> std::string {
      auto it = item.find(key);
      return it != item.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    SeedUser s;
    s.username = str("username");
    s.password = str("password");
    s.first_name = str("firstName");
    s.last_name = str("lastName");
    s.email = str("email");
    if (auto it = item.find("roles"); it != item.end()) {
      if (!it->is_array()) return core::InvalidArgument("\"roles\" of a user is not an array");
      for (const auto& r : *it) {
        if (!r.is_string()) return core::InvalidArgument("a role is not a string");
        s.roles.push_back(r.get<std::string>());
      }
    }
    if (s.username.empty()) return core::InvalidArgument("a user entry has no username");
    out.push_back(std::move(s));
  }
  if (out.empty()) return core::InvalidArgument("users file lists no users");
  return out;
}

UserDirectory::AuthResult UserDirectory::Authenticate(std::string_view login,
                                                      std::string_view password) const {
  std::string key = Lower(login);
  const Credential* cred = &dummy_;
  const User* user = nullptr;
  for (size_t i = 0; i < users_.size(); ++i) {
    if (users_[i].username == key || users_[i].email == key) {
      user = &users_[i];
      cred = &credentials_[i];
      break;
    }
  }
  // Always hash, so an unknown user takes as long as a wrong password.
  hashes_->fetch_add(1);
  std::string computed = Pbkdf2Sha256(password, cred->salt, iterations_);
  bool match = ConstantTimeEquals(computed, cred->hash);
  AuthResult r;
  r.named = user;
  if (user == nullptr) {
    r.failure = LoginFailure::kUnknownUser;
  } else if (!match) {
    r.failure = LoginFailure::kBadPassword;
  } else {
    r.user = user;
  }
  return r;
}

const User* UserDirectory::FindByLogin(std::string_view login) const {
  std::string key = Lower(login);
  for (const auto& u : users_) {
    if (u.username == key || u.email == key) return &u;
  }
  return nullptr;
}

const User* UserDirectory::FindByUsername(std::string_view username) const {
  std::string key = Lower(username);
  for (const auto& u : users_) {
    if (u.username == key) return &u;
  }
  return nullptr;
}

const User* UserDirectory::FindById(std::string_view id) const {
  for (const auto& u : users_) {
    if (u.id == id) return &u;
  }
  return nullptr;
}

}  // namespace chat::devidp
