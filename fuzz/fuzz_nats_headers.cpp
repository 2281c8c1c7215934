// NATS message headers as they arrive from the server: libnats keeps the raw header block
// ("NATS/1.0\r\nKey: Value\r\n...\r\n\r\n") and parses it on first access; natsx then looks up the
// trace headers in any spelling (internal::ReadTraceHeaders) and parses them (§3.1/§3.2).
// Input: the raw header block; the message body is empty.
#include <nats/nats.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "internal.hpp"

// libnats' own constructor for an inbound message (msg.h, not installed): the header block is the
// first `hdrLen` bytes of `buf`. It is the one the connection's parser calls, so the fuzzer feeds
// exactly what a server could send. Exported by Debian's libnats 3.4.
extern "C" natsStatus natsMsg_create(natsMsg** newMsg, const char* subject, int subjLen,
                                     const char* reply, int replyLen, const char* buf, int bufLen,
                                     int hdrLen);

// natsMsg_Destroy hands the message to libnats' garbage collector, which nats_Open sets up.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (nats_Open(-1) != NATS_OK) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return -1;  // the server's max_payload bounds real headers
  static const std::string kSubject = "chat.room.r1.msg";
  natsMsg* msg = nullptr;
  int len = static_cast<int>(size);
  if (natsMsg_create(&msg, kSubject.data(), static_cast<int>(kSubject.size()), nullptr, 0,
                     reinterpret_cast<const char*>(data), len, len) != NATS_OK) {
    return 0;
  }
  auto headers = chat::natsx::internal::ReadTraceHeaders(msg);
  if (headers.parsed.context && !headers.parsed.context->IsValid()) std::abort();
  // What a handler may read: every value of every key.
  const char** keys = nullptr;
  int nkeys = 0;
  if (natsMsgHeader_Keys(msg, &keys, &nkeys) == NATS_OK) {
    for (int i = 0; i < nkeys; ++i) {
      const char* v = nullptr;
      if (natsMsgHeader_Get(msg, keys[i], &v) == NATS_OK && v == nullptr) std::abort();
    }
    std::free(static_cast<void*>(keys));
  }
  natsMsg_Destroy(msg);
  return 0;
}
