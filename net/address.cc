#include "net/address.h"

#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

#include <uv.h>

namespace herd {

Result<struct sockaddr_storage> resolve_address(const std::string& host, int port) {
  struct sockaddr_storage address;
  memset(&address, 0, sizeof address);
  auto* in = reinterpret_cast<struct sockaddr_in*>(&address);
  auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&address);
  if (uv_ip4_addr(host.c_str(), port, in) == 0) return address;
  if (uv_ip6_addr(host.c_str(), port, in6) == 0) return address;
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Error{"cannot resolve host \"" + host + "\": " + gai_strerror(rc)};
  }
  memcpy(&address, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (address.ss_family == AF_INET6) {
    in6->sin6_port = htons(static_cast<uint16_t>(port));
  } else {
    in->sin_port = htons(static_cast<uint16_t>(port));
  }
  return address;
}

std::string format_address(const struct sockaddr* address) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const struct sockaddr_in*>(address);
    uv_ip4_name(in, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (address->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(address);
    uv_ip6_name(in6, ip, sizeof ip);
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "?";
}

bool is_loopback(const struct sockaddr* address) {
  if (address->sa_family == AF_INET) {
    return (ntohl(reinterpret_cast<const struct sockaddr_in*>(address)->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const struct in6_addr& a = reinterpret_cast<const struct sockaddr_in6*>(address)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
  }
  return false;
}

int address_port(const struct sockaddr* address) {
  if (address->sa_family == AF_INET) {
    return ntohs(reinterpret_cast<const struct sockaddr_in*>(address)->sin_port);
  }
  if (address->sa_family == AF_INET6) {
    return ntohs(reinterpret_cast<const struct sockaddr_in6*>(address)->sin6_port);
  }
  return 0;
}

}  // namespace herd
