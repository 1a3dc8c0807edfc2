// libFuzzer target: arbitrary bytes from a client through the frame parser
// and every text message through the command parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wire/protocol.h"
#include "wire/ws_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rte::wire::FrameParser parser(4096);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Feed in two uneven pieces to exercise resumption.
  const size_t cut = size ? data[0] % (size + 1) : 0;
  for (auto piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
    auto verdict = parser.Feed(piece, [](const rte::wire::ClientMessage& m) {
      if (m.opcode == rte::wire::Opcode::kText) (void)rte::wire::ParseClientCommand(m.payload);
      return true;
    });
    if (!verdict.ok()) break;
  }
  (void)rte::wire::ParseClientCommand(bytes);
  return 0;
}
