#include "ingest/partitioner.h"

namespace rte::ingest {

int32_t Murmur2(std::span<const uint8_t> data) {
  // All arithmetic is modulo 2^32, as Java's int arithmetic is; Java's >>>
  // is a logical shift, which unsigned >> is.
  constexpr uint32_t kSeed = 0x9747b28cu;
  constexpr uint32_t kM = 0x5bd1e995u;
  constexpr int kR = 24;
  const size_t length = data.size();
  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  const size_t blocks = length / 4;
  for (size_t i = 0; i < blocks; ++i) {
    const uint8_t* b = data.data() + i * 4;
    uint32_t k = uint32_t{b[0]} | (uint32_t{b[1]} << 8) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 24);
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  const uint8_t* tail = data.data() + blocks * 4;
  switch (length % 4) {
    case 3:
      h ^= uint32_t{tail[2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{tail[1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t{tail[0]};
      h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t Murmur2(std::string_view data) {
  return Murmur2(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

int32_t PartitionForKey(std::string_view key, int32_t partitions) {
  if (partitions <= 0) return 0;
  // Utils.toPositive: clears the sign bit (not abs()).
  const uint32_t positive = static_cast<uint32_t>(Murmur2(key)) & 0x7fffffffu;
  return static_cast<int32_t>(positive % static_cast<uint32_t>(partitions));
}

PartitionKeyTemplate::PartitionKeyTemplate(std::string_view text) : text_(text) {
  size_t start = 0;
  while (true) {
    const size_t at = text.find(kTenantPlaceholder, start);
    pieces_.emplace_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + kTenantPlaceholder.size();
  }
}

void PartitionKeyTemplate::RenderTo(std::string_view tenant, std::string* out) const {
  out->clear();
  for (size_t i = 0; i < pieces_.size(); ++i) {
    if (i > 0) out->append(tenant);
    out->append(pieces_[i]);
  }
}

std::string PartitionKeyTemplate::Render(std::string_view tenant) const {
  std::string out;
  RenderTo(tenant, &out);
  return out;
}

}  // namespace rte::ingest
