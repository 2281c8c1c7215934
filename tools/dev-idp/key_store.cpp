#include "key_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/core/status.hpp"

namespace chat::devidp {
namespace {

namespace fs = std::filesystem;

core::Status MakePrivateDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return core::Unavailable("cannot create " + dir.string() + ": " + ec.message());
  // Keys are secrets: the directory is ours alone even when it already existed.
  if (::chmod(dir.c_str(), 0700) != 0) {
    return core::Unavailable("cannot chmod " + dir.string() + ": " + core::ErrnoMessage(errno));
  }
  return core::Status::Ok();
}

// Writes `content` to `path` with mode 0600 atomically (temp file + rename), so a crash never
// leaves a half-written key or signing-kid behind.
core::Status WritePrivateFile(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return core::Unavailable("cannot write " + tmp.string() + ": " + core::ErrnoMessage(errno));
  }
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return core::Unavailable("write failed: " + core::ErrnoMessage(errno));
    }
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0600);  // O_CREAT's mode is filtered by umask; the file existed maybe
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return core::Unavailable("cannot flush " + tmp.string());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return core::Unavailable("cannot rename to " + path.string() + ": " +
                             core::ErrnoMessage(errno));
  }
  return core::Status::Ok();
}

core::Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Unavailable("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

core::Result<KeyStore::OpenOutcome> KeyStore::Open(const std::string& dir) {
  fs::path root(dir);
  CHAT_RETURN_IF_ERROR(MakePrivateDir(root));
  CHAT_RETURN_IF_ERROR(MakePrivateDir(root / "keys"));

  std::unique_ptr<KeyStore> store(new KeyStore(dir));
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(root / "keys", ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".pem") {
      files.push_back(entry.path());
    }
  }
  if (ec) return core::Unavailable("cannot list " + (root / "keys").string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    CHAT_ASSIGN_OR_RETURN(std::string pem, ReadFile(f));
    auto key = RsaKey::FromPrivatePem(pem);
    if (!key.ok()) {
      return core::InvalidArgument(f.string() + ": " + key.status().message());
    }
    store->keys_.push_back(std::make_shared<const RsaKey>(std::move(key).value()));
  }

  OpenOutcome outcome;
  if (store->keys_.empty()) {
    CHAT_ASSIGN_OR_RETURN(auto key, store->GenerateAndPersist());
    CHAT_RETURN_IF_ERROR(store->WriteSigningKid(key->kid()));
    store->keys_.push_back(std::move(key));
    outcome.generated = true;
  } else {
    std::string signing;
    if (fs::exists(root / "signing-kid")) {
      CHAT_ASSIGN_OR_RETURN(std::string text, ReadFile(root / "signing-kid"));
      signing = Trim(std::move(text));
    } else {
      signing = store->keys_.front()->kid();  // older layout or hand-placed key
      CHAT_RETURN_IF_ERROR(store->WriteSigningKid(signing));
    }
    auto it = std::find_if(store->keys_.begin(), store->keys_.end(),
                           [&](const auto& k) { return k->kid() == signing; });
    if (it == store->keys_.end()) {
      return core::InvalidArgument("signing-kid \"" + signing + "\" names no key in " +
                                   (root / "keys").string());
    }
    std::rotate(store->keys_.begin(), it, it + 1);  // signing key first
  }
  outcome.store = std::move(store);
  return outcome;
}

core::Result<std::shared_ptr<const RsaKey>> KeyStore::GenerateAndPersist() {
  CHAT_ASSIGN_OR_RETURN(RsaKey key, RsaKey::Generate(2048));
  fs::path path = fs::path(dir_) / "keys" / (key.kid() + ".pem");
  CHAT_RETURN_IF_ERROR(WritePrivateFile(path, key.PrivatePem()));
  return std::make_shared<const RsaKey>(std::move(key));
}

core::Status KeyStore::WriteSigningKid(const std::string& kid) {
  return WritePrivateFile(fs::path(dir_) / "signing-kid", kid + "\n");
}

core::Result<std::string> KeyStore::Rotate() {
  // Generation is slow (tens of ms); the lock only covers the switch.
  CHAT_ASSIGN_OR_RETURN(auto key, GenerateAndPersist());
  std::lock_guard lock(mu_);
  CHAT_RETURN_IF_ERROR(WriteSigningKid(key->kid()));
  std::string kid = key->kid();
  keys_.insert(keys_.begin(), std::move(key));
  return kid;
}

std::shared_ptr<const RsaKey> KeyStore::SigningKey() const {
  std::lock_guard lock(mu_);
  return keys_.front();
}

std::vector<std::shared_ptr<const RsaKey>> KeyStore::PublishedKeys() const {
  std::lock_guard lock(mu_);
  return keys_;
}

std::shared_ptr<const RsaKey> KeyStore::Find(std::string_view kid) const {
  std::lock_guard lock(mu_);
  for (const auto& k : keys_) {
    if (k->kid() == kid) return k;
  }
  return nullptr;
}

}  // namespace chat::devidp
