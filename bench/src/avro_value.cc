#include "avro_value.h"

#include <charconv>

namespace rte::bench::avro {

const char* const kSchema =
    R"({"type":"record","name":"BenchPayment","namespace":"com.pms.bench","fields":[)"
    R"({"name":"payment_id","type":"string"},)"
    R"({"name":"reservation_id","type":["null","string"],"default":null},)"
    R"({"name":"organization_id","type":"string"},)"
    R"({"name":"property_id","type":"string"},)"
    R"({"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},)"
    R"({"name":"currency","type":"string"},)"
    R"({"name":"method","type":{"type":"enum","name":"PaymentMethod","symbols":["card","bank_transfer","cash","wallet"]}},)"
    R"({"name":"status","type":"string"},)"
    R"({"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},)"
    R"({"name":"seq","type":"long"},)"
    R"({"name":"sent_us","type":"long"},)"
    R"({"name":"pad","type":"string"}]})";

namespace {

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

// Decimal on bytes: big-endian two's complement, shortest form (v >= 0 here).
void PutDecimal(std::string& out, uint64_t v) {
  char b[9];
  int n = 0;
  do {
    b[8 - n++] = static_cast<char>(v & 0xFF);
    v >>= 8;
  } while (v);
  if (static_cast<unsigned char>(b[9 - n]) & 0x80) b[8 - n++] = 0;  // keep it positive
  PutBytes(out, std::string_view(b + 9 - n, static_cast<size_t>(n)));
}

// Appends prefix + decimal digits of v as an Avro string.
void PutNumbered(std::string& out, std::string_view prefix, uint64_t v) {
  char b[48];
  size_t p = prefix.size() < 24 ? prefix.size() : 24;
  prefix.copy(b, p);
  auto r = std::to_chars(b + p, b + sizeof b, v);
  PutBytes(out, std::string_view(b, static_cast<size_t>(r.ptr - b)));
}

}  // namespace

void PutLong(std::string& out, int64_t v) {
  uint64_t z = ZigZag(v);
  while (z >= 0x80) {
    out.push_back(static_cast<char>((z & 0x7F) | 0x80));
    z >>= 7;
  }
  out.push_back(static_cast<char>(z));
}

int LongSize(int64_t v) {
  uint64_t z = ZigZag(v);
  int n = 1;
  while (z >= 0x80) z >>= 7, ++n;
  return n;
}

void PutBytes(std::string& out, std::string_view b) {
  PutLong(out, static_cast<int64_t>(b.size()));
  out.append(b);
}

void PutFrame(std::string& out, int32_t id) {
  auto u = static_cast<uint32_t>(id);
  out.push_back(0);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xFF));
}

void EncodeValue(std::string& out, int32_t schema_id, std::string_view org, std::string_view prop, uint64_t seq,
                 uint64_t sent_us, size_t record_bytes) {
  out.clear();
  PutFrame(out, schema_id);
  PutNumbered(out, "pay-", seq);                    // payment_id
  if (seq % 3 == 0) {                               // reservation_id: null or a string
    PutLong(out, 0);
  } else {
    PutLong(out, 1);
    PutNumbered(out, "R-", seq);
  }
  PutString(out, org);                              // organization_id
  PutString(out, prop);                             // property_id
  PutDecimal(out, 100 + (seq * 7919) % 1'000'000);  // amount: 1.00 .. 10000.99
  PutString(out, "EUR");                            // currency
  PutLong(out, static_cast<int64_t>(seq % 4));      // method: card, bank_transfer, cash, wallet
  PutString(out, "captured");                       // status
  PutLong(out, static_cast<int64_t>(sent_us / 1000));  // created_at
  PutLong(out, static_cast<int64_t>(seq));
  PutLong(out, static_cast<int64_t>(sent_us));
  // pad: its length's varint counts too.
  size_t pad = 0;
  if (out.size() + 1 < record_bytes) {
    pad = record_bytes - out.size() - 1;
    while (pad > 0 && out.size() + static_cast<size_t>(LongSize(static_cast<int64_t>(pad))) + pad > record_bytes) --pad;
  }
  PutLong(out, static_cast<int64_t>(pad));
  out.append(pad, 'x');
}

}  // namespace rte::bench::avro
