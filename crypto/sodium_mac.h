// The cryptography of peer authentication, from libsodium (node/peer_auth.h says what
// it is for; nothing here is hand-written): the MAC (HMAC-SHA-512-256, crypto_auth),
// constant-time comparison, nonces from the system's random source, the herd key
// derived from a secret (BLAKE2b, crypto_generichash), and a key id that is safe to
// print. A host-side layer: node/ never includes it; net/ and sim/ hand it to nodes.
#pragma once
#include <string>
#include <string_view>

#include "node/peer_auth.h"
#include "node/result.h"

namespace herd {

class SodiumMac final : public Mac {
 public:
  AuthKey tag(const AuthKey& key, std::string_view data) const override;
  bool same(const uint8_t* a, const uint8_t* b, size_t n) const override;
};

// The one instance (initialises libsodium on first use).
const Mac& sodium_mac();

// A nonce from the system's cryptographic random source.
AuthNonce random_nonce();

// The herd key of a secret (its bytes as given).
AuthKey herd_key(std::string_view secret);
// Sixteen hex digits that name a key without revealing it (for logs and traces).
std::string key_id(const AuthKey& key);

// Reads a secret file: its bytes, without one trailing newline; at least 16 bytes and
// at most 4096. Errors name the file: "s.key: the secret must be at least 16 bytes".
Result<AuthKey> herd_key_from_file(const std::string& path);

// The admin console's challenge-response: the answer to the challenge `challenge`
// (the hex nonce the console sent) is the hex of the first kTagBytes of
// MAC(key, "herd-admin " challenge).
std::string admin_proof(const AuthKey& key, std::string_view challenge);

// The herd secret's file from the command line or, when none was given, the
// environment variable HERD_SECRET_FILE; "" for none.
std::string secret_file_from(const std::string& flag);

}  // namespace herd
