// Socket addresses for the live host: resolving a topology's "host" and port, and
// printing an address for logs and messages.
#pragma once
#include <sys/socket.h>

#include <string>

#include "node/result.h"

namespace herd {

// An IPv4 or IPv6 literal, or a name resolved once (blocking, at start-up only).
// Errors: "cannot resolve host \"x\": <reason>".
Result<struct sockaddr_storage> resolve_address(const std::string& host, int port);

// "127.0.0.1:50522" or "[::1]:50522"; "?" for another family.
std::string format_address(const struct sockaddr* address);

// Whether an address is a loopback one (127.0.0.0/8, ::1, ::ffff:127.x.y.z).
bool is_loopback(const struct sockaddr* address);

// The port of an AF_INET or AF_INET6 address (0 otherwise).
int address_port(const struct sockaddr* address);

}  // namespace herd
