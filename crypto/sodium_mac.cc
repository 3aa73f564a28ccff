#include "crypto/sodium_mac.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <sodium.h>

#include "node/check.h"

namespace herd {
namespace {

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  HERD_ASSERT(ready);
}

}  // namespace

AuthKey SodiumMac::tag(const AuthKey& key, std::string_view data) const {
  static_assert(crypto_auth_BYTES == sizeof(AuthKey) && crypto_auth_KEYBYTES == sizeof(AuthKey));
  AuthKey out;
  crypto_auth(out.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size(), key.data());
  return out;
}

bool SodiumMac::same(const uint8_t* a, const uint8_t* b, size_t n) const { return sodium_memcmp(a, b, n) == 0; }

const Mac& sodium_mac() {
  ensure_sodium();
  static const SodiumMac mac;
  return mac;
}

AuthNonce random_nonce() {
  ensure_sodium();
  AuthNonce n;
  randombytes_buf(n.data(), n.size());
  return n;
}

AuthKey herd_key(std::string_view secret) {
  ensure_sodium();
  static constexpr std::string_view kContext = "herd peer key v1";
  AuthKey key;
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, key.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_generichash_final(&state, key.data(), key.size());
  return key;
}

std::string key_id(const AuthKey& key) {
  ensure_sodium();
  static constexpr std::string_view kContext = "herd key id v1";
  uint8_t id[8];
  crypto_generichash(id, sizeof id, reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size(),
                     key.data(), key.size());
  return hex_of(id, sizeof id);
}

std::string admin_proof(const AuthKey& key, std::string_view challenge) {
  const AuthKey tag = sodium_mac().tag(key, "herd-admin " + std::string(challenge));
  return hex_of(tag.data(), kTagBytes);
}

Result<AuthKey> herd_key_from_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Error{path + ": cannot read the secret: " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return Error{path + ": the secret must be a regular file"};
  if (st.st_size > 4097) return Error{path + ": the secret must be at most 4096 bytes"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot read the secret"};
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.size() < 16) return Error{path + ": the secret must be at least 16 bytes"};
  if (secret.size() > 4096) return Error{path + ": the secret must be at most 4096 bytes"};
  const AuthKey key = herd_key(secret);
  sodium_memzero(secret.data(), secret.size());
  return key;
}

std::string secret_file_from(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("HERD_SECRET_FILE");
  return env != nullptr ? env : "";
}

}  // namespace herd
