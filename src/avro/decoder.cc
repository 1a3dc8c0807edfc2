#include "avro/decoder.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "avro/json_text.h"
#include "avro/logical_format.h"

namespace rte::avro {
namespace {

namespace json = boost::json;

// Why a sink refused an item.
enum class SinkFailure : uint8_t { kNone, kOverLimit, kInvalidUtf8, kDecimalTooLarge };

// Writes compact JSON text straight into a string, through a raw pointer
// into the string's (grown, then trimmed) storage. Every method returns false
// once the text written exceeds the limit (or on invalid input, see failure()).
class TextSink {
 public:
  TextSink(std::string* out, size_t limit, size_t size_hint) : out_(out), start_(out->size()), limit_(limit) {
    base_ = out_->data();
    p_ = base_ + start_;
    end_ = p_;
    Grow(size_hint);
  }

  // Trims the string to what was written, or back to its old size.
  void Finish(bool ok) { out_->resize(ok ? static_cast<size_t>(p_ - base_) : start_); }

  bool BeginObject(size_t) { return Char('{'); }
  bool EndObject() { return Char('}'); }
  bool BeginArray() { return Char('['); }
  bool EndArray() { return Char(']'); }
  bool Comma() { return Char(','); }
  bool Key(std::string_view, std::string_view key_json) { return Raw(key_json); }
  bool MapKey(std::string_view key) { return String(key) && Char(':'); }
  bool Null() { return Raw("null"); }
  bool Bool(bool b) { return Raw(b ? std::string_view("true") : std::string_view("false")); }
  bool Int(int64_t v) {
    Room(kMaxNumberChars);
    p_ += FormatInt64(v, p_);
    return Check();
  }
  bool Double(double d) {
    Room(kMaxNumberChars);
    p_ += FormatDouble(d, p_);
    return Check();
  }
  bool String(std::string_view s) {
    size_t need = 6 * s.size() + 2;
    if (s.size() > 4096) {  // avoid reserving 6x for long strings: measure first
      const std::optional<size_t> len = JsonStringLength(s);
      if (!len) return Failed(SinkFailure::kInvalidUtf8);
      need = *len;
    }
    Room(need);
    char* e = WriteJsonString(s, p_);
    if (e == nullptr) return Failed(SinkFailure::kInvalidUtf8);
    p_ = e;
    return Check();
  }
  bool Ascii(std::string_view s) {
    Room(s.size() + 2);
    *p_++ = '"';
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
    *p_++ = '"';
    return Check();
  }
  bool Symbol(std::string_view, std::string_view symbol_json) { return Raw(symbol_json); }
  bool Base64(std::span<const uint8_t> bytes) {
    const size_t n = Base64Length(bytes.size());
    Room(n + 2);
    *p_++ = '"';
    WriteBase64(bytes, p_);
    p_ += n;
    *p_++ = '"';
    return Check();
  }
  bool Decimal(std::span<const uint8_t> bytes, int32_t scale) {
    Room(kMaxDecimalChars + 2);
    *p_++ = '"';
    const size_t n = WriteDecimal(bytes, scale, p_);
    if (n == 0) return Failed(SinkFailure::kDecimalTooLarge);
    p_ += n;
    *p_++ = '"';
    return Check();
  }

  SinkFailure failure() const { return failure_; }

 private:
  // Makes room for `n` more chars at p_.
  [[gnu::always_inline]] void Room(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) [[unlikely]] Grow(n);
  }
  [[gnu::noinline]] void Grow(size_t n) {
    const size_t used = static_cast<size_t>(p_ - base_);
    const size_t size = std::max(used + n, 2 * out_->size());
    out_->resize(size);
    base_ = out_->data();
    p_ = base_ + used;
    end_ = base_ + size;
  }
  [[gnu::always_inline]] bool Char(char c) {
    Room(1);
    *p_++ = c;
    return Check();
  }
  [[gnu::always_inline]] bool Raw(std::string_view s) {
    Room(s.size());
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
    return Check();
  }
  [[gnu::always_inline]] bool Check() {
    return static_cast<size_t>(p_ - base_) - start_ <= limit_ || Failed(SinkFailure::kOverLimit);
  }
  bool Failed(SinkFailure f) {
    failure_ = f;
    return false;
  }

  std::string* out_;
  size_t start_;
  size_t limit_;
  char* base_ = nullptr;  // out_->data(), refreshed by Grow
  char* p_ = nullptr;
  char* end_ = nullptr;
  SinkFailure failure_ = SinkFailure::kNone;
};

// Builds a boost::json::value, counting the length its serialized text would
// have so that it fails exactly when TextSink would.
class ValueSink {
 public:
  explicit ValueSink(size_t limit) : limit_(limit) {}

  bool BeginObject(size_t fields) {
    json::object obj(sp_);
    obj.reserve(fields);
    stack_.push_back({json::value(std::move(obj)), {}});
    return Add(1);
  }
  bool EndObject() { return Pop(); }
  bool BeginArray() {
    stack_.push_back({json::value(json::array(sp_)), {}});
    return Add(1);
  }
  bool EndArray() { return Pop(); }
  bool Comma() { return Add(1); }
  bool Key(std::string_view name, std::string_view key_json) {
    stack_.back().key = name;
    return Add(key_json.size());
  }
  bool MapKey(std::string_view key) {
    const std::optional<size_t> len = JsonStringLength(key);
    if (!len) return Failed(SinkFailure::kInvalidUtf8);
    stack_.back().key = key;
    return Add(*len + 1);
  }
  bool Null() { return Put(json::value(nullptr, sp_), 4); }
  bool Bool(bool b) { return Put(json::value(b, sp_), b ? 4 : 5); }
  bool Int(int64_t v) { return Put(json::value(v, sp_), Int64Length(v)); }
  bool Double(double d) {
    char buf[kMaxNumberChars];
    return Put(json::value(d, sp_), FormatDouble(d, buf));
  }
  bool String(std::string_view s) {
    const std::optional<size_t> len = JsonStringLength(s);
    if (!len) return Failed(SinkFailure::kInvalidUtf8);
    return Put(json::value(json::string(s, sp_)), *len);
  }
  bool Ascii(std::string_view s) { return Put(json::value(json::string(s, sp_)), s.size() + 2); }
  bool Symbol(std::string_view symbol, std::string_view symbol_json) {
    return Put(json::value(json::string(symbol, sp_)), symbol_json.size());
  }
  bool Base64(std::span<const uint8_t> bytes) {
    const size_t n = Base64Length(bytes.size());
    json::string s(sp_);
    s.resize(n);
    WriteBase64(bytes, s.data());
    return Put(json::value(std::move(s)), n + 2);
  }
  bool Decimal(std::span<const uint8_t> bytes, int32_t scale) {
    scratch_.clear();
    if (!AppendDecimal(bytes, scale, &scratch_)) return Failed(SinkFailure::kDecimalTooLarge);
    return Ascii(scratch_);
  }

  SinkFailure failure() const { return failure_; }
  json::value TakeRoot() { return std::move(root_); }

 private:
  struct Frame {
    json::value container;
    std::string_view key;  // for the next member of an object
  };

  bool Add(size_t n) {
    length_ += n;
    return length_ <= limit_ || Failed(SinkFailure::kOverLimit);
  }
  bool Put(json::value&& v, size_t text_length) {
    if (stack_.empty()) {
      root_ = std::move(v);
    } else {
      Frame& top = stack_.back();
      if (json::array* a = top.container.if_array()) {
        a->push_back(std::move(v));
      } else {
        top.container.get_object().emplace(top.key, std::move(v));
      }
    }
    return Add(text_length);
  }
  bool Pop() {
    json::value done = std::move(stack_.back().container);
    stack_.pop_back();
    return Put(std::move(done), 1);
  }
  bool Failed(SinkFailure f) {
    failure_ = f;
    return false;
  }

  json::storage_ptr sp_;
  std::vector<Frame> stack_;
  json::value root_;
  std::string scratch_;
  size_t length_ = 0;
  size_t limit_;
  SinkFailure failure_ = SinkFailure::kNone;
};

// Remembers the keys of one map to reject repeats (a JSON object cannot hold
// them, and real writers never produce them).
class MapKeySet {
 public:
  // False if `key` was seen before.
  bool Insert(std::string_view key) {
    if (count_ < kInline) {
      for (size_t i = 0; i < count_; ++i) {
        if (inline_[i] == key) return false;
      }
      inline_[count_++] = key;
      return true;
    }
    if (count_ == kInline) set_.insert(inline_.begin(), inline_.end());
    ++count_;
    return set_.insert(key).second;
  }

 private:
  static constexpr size_t kInline = 16;
  std::array<std::string_view, kInline> inline_;
  size_t count_ = 0;
  std::unordered_set<std::string_view> set_;
};

inline uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

inline uint64_t LoadLe64(const uint8_t* p) { return uint64_t{LoadLe32(p)} | (uint64_t{LoadLe32(p + 4)} << 32); }

// The decoding walk shared by both outputs: reads Avro binary as `schema`
// says, checks every bound, and tells the sink what to emit.
template <class Sink>
class Decoder {
 public:
  Decoder(std::span<const uint8_t> data, Sink* sink, const DecodeOptions& options)
      : begin_(data.data()), p_(data.data()), end_(data.data() + data.size()), sink_(*sink), options_(options) {}

  bool Run(const SchemaNode& root) {
    if (!Value(root, 0)) return false;
    if (p_ != end_) {
      return Fail(Errc::kInvalidArgument, std::to_string(end_ - p_) + " trailing bytes after the value");
    }
    return true;
  }

  // The error of a failed Run, with the path to the failing value.
  Error TakeError() {
    if (!path_.empty()) {
      std::string where = " in $";
      for (size_t i = path_.size(); i-- > 0;) where += path_[i];
      error_.message += where;
    }
    return std::move(error_);
  }

 private:
  size_t Remaining() const { return static_cast<size_t>(end_ - p_); }

  bool Fail(Errc code, std::string message) {
    error_ = MakeError(code, "avro: " + message + " at byte " + std::to_string(p_ - begin_));
    return false;
  }

  bool SinkFailed() {
    switch (sink_.failure()) {
      case SinkFailure::kOverLimit:
        return Fail(Errc::kResourceExhausted,
                    "JSON output longer than " + std::to_string(options_.max_output_bytes) + " bytes");
      case SinkFailure::kInvalidUtf8: return Fail(Errc::kInvalidArgument, "string is not valid UTF-8");
      case SinkFailure::kDecimalTooLarge:
        return Fail(Errc::kOutOfRange,
                    "decimal has more than " + std::to_string(kMaxDecimalBytes) + " significant bytes");
      case SinkFailure::kNone: break;
    }
    return Fail(Errc::kInternal, "sink failed");
  }

  [[gnu::always_inline]] bool ReadLong(int64_t* out) {
    if (p_ < end_ && *p_ < 0x80) [[likely]] {
      const uint64_t v = *p_++;
      *out = static_cast<int64_t>((v >> 1) ^ (0 - (v & 1)));
      return true;
    }
    return ReadLongSlow(out);
  }

  [[gnu::noinline]] bool ReadLongSlow(int64_t* out) {
    uint64_t v = 0;
    for (int i = 0, shift = 0; i < 10; ++i, shift += 7) {
      if (p_ >= end_) return Fail(Errc::kOutOfRange, "truncated varint");
      const uint8_t b = *p_++;
      if (i == 9 && b > 1) {
        return Fail(Errc::kInvalidArgument, (b & 0x80) ? "varint longer than 10 bytes" : "varint overflows 64 bits");
      }
      v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) {
        *out = static_cast<int64_t>((v >> 1) ^ (0 - (v & 1)));
        return true;
      }
    }
    return false;  // not reached: the 10th byte either ends the varint or fails
  }

  bool ReadInt(int32_t* out) {
    int64_t v = 0;
    if (!ReadLong(&v)) return false;
    if (v < INT32_MIN || v > INT32_MAX) return Fail(Errc::kInvalidArgument, "int " + std::to_string(v) + " out of range");
    *out = static_cast<int32_t>(v);
    return true;
  }

  // Reads `n` raw bytes.
  bool ReadFixed(uint64_t n, std::span<const uint8_t>* out) {
    if (n > Remaining()) {
      return Fail(Errc::kOutOfRange, "value of " + std::to_string(n) + " bytes but only " +
                                         std::to_string(Remaining()) + " remain");
    }
    *out = {p_, static_cast<size_t>(n)};
    p_ += n;
    return true;
  }

  // Reads a long length then that many bytes (bytes, string).
  bool ReadSized(std::span<const uint8_t>* out) {
    int64_t len = 0;
    if (!ReadLong(&len)) return false;
    if (len < 0) return Fail(Errc::kOutOfRange, "negative length " + std::to_string(len));
    return ReadFixed(static_cast<uint64_t>(len), out);
  }

  // Reads an array/map block header. `count` 0 ends the sequence. A negative
  // count is followed by the block's byte size, returned as `block_end`.
  bool ReadBlock(int64_t item_min_size, int64_t* count, const uint8_t** block_end) {
    *block_end = nullptr;
    if (!ReadLong(count)) return false;
    if (*count == 0) return true;
    size_t room = Remaining();
    if (*count < 0) {
      if (*count == INT64_MIN) return Fail(Errc::kOutOfRange, "block count out of range");
      *count = -*count;
      int64_t size = 0;
      if (!ReadLong(&size)) return false;
      if (size < 0 || static_cast<uint64_t>(size) > Remaining()) {
        return Fail(Errc::kOutOfRange, "block size " + std::to_string(size) + " but " +
                                           std::to_string(Remaining()) + " bytes remain");
      }
      room = static_cast<size_t>(size);
      *block_end = p_ + size;
    }
    if (item_min_size > 0 && static_cast<uint64_t>(*count) > room / static_cast<uint64_t>(item_min_size)) {
      return Fail(Errc::kOutOfRange, "block of " + std::to_string(*count) + " items cannot fit in the " +
                                         std::to_string(room) + " bytes remaining");
    }
    return true;
  }

  bool CheckBlockEnd(const uint8_t* block_end) {
    if (block_end != nullptr && p_ != block_end) {
      return Fail(Errc::kInvalidArgument, "block byte size does not match its items");
    }
    return true;
  }

  bool CheckDepth(int depth) {
    if (depth >= options_.max_depth) {
      return Fail(Errc::kResourceExhausted, "nesting deeper than " + std::to_string(options_.max_depth));
    }
    return true;
  }

  bool Value(const SchemaNode& n, int depth) {
    switch (n.type) {
      case AvroType::kNull:
        return sink_.Null() || SinkFailed();
      case AvroType::kBoolean: {
        if (p_ >= end_) return Fail(Errc::kOutOfRange, "truncated boolean");
        const uint8_t b = *p_;
        if (b > 1) return Fail(Errc::kInvalidArgument, "boolean byte " + std::to_string(b) + " is not 0 or 1");
        ++p_;
        return sink_.Bool(b == 1) || SinkFailed();
      }
      case AvroType::kInt: {
        int32_t v = 0;
        if (!ReadInt(&v)) return false;
        return IntValue(n, v) || SinkFailed();
      }
      case AvroType::kLong: {
        int64_t v = 0;
        if (!ReadLong(&v)) return false;
        return LongValue(n, v) || SinkFailed();
      }
      case AvroType::kFloat: {
        if (Remaining() < 4) return Fail(Errc::kOutOfRange, "truncated float");
        const float f = std::bit_cast<float>(LoadLe32(p_));
        p_ += 4;
        const bool ok = std::isfinite(f) ? sink_.Double(FloatToDouble(f)) : sink_.Null();
        return ok || SinkFailed();
      }
      case AvroType::kDouble: {
        if (Remaining() < 8) return Fail(Errc::kOutOfRange, "truncated double");
        const double d = std::bit_cast<double>(LoadLe64(p_));
        p_ += 8;
        return (std::isfinite(d) ? sink_.Double(d) : sink_.Null()) || SinkFailed();
      }
      case AvroType::kBytes: {
        std::span<const uint8_t> b;
        if (!ReadSized(&b)) return false;
        return BytesValue(n, b) || SinkFailed();
      }
      case AvroType::kString: {
        std::span<const uint8_t> b;
        if (!ReadSized(&b)) return false;
        return sink_.String({reinterpret_cast<const char*>(b.data()), b.size()}) || SinkFailed();
      }
      case AvroType::kFixed: {
        std::span<const uint8_t> b;
        if (!ReadFixed(static_cast<uint64_t>(n.fixed_size), &b)) return false;
        return FixedValue(n, b);
      }
      case AvroType::kEnum: {
        int32_t i = 0;
        if (!ReadInt(&i)) return false;
        if (i < 0 || static_cast<size_t>(i) >= n.symbols.size()) {
          return Fail(Errc::kInvalidArgument, "enum index " + std::to_string(i) + " out of range for " +
                                                  std::to_string(n.symbols.size()) + " symbols");
        }
        return sink_.Symbol(n.symbols[i], n.symbols_json[i]) || SinkFailed();
      }
      case AvroType::kUnion: {
        int64_t i = 0;
        if (!ReadLong(&i)) return false;
        if (i < 0 || static_cast<uint64_t>(i) >= n.branches.size()) {
          return Fail(Errc::kInvalidArgument, "union branch " + std::to_string(i) + " out of range for " +
                                                  std::to_string(n.branches.size()) + " branches");
        }
        return Value(*n.branches[static_cast<size_t>(i)], depth);
      }
      case AvroType::kRecord: return Record(n, depth);
      case AvroType::kArray: return Array(n, depth);
      case AvroType::kMap: return Map(n, depth);
    }
    return Fail(Errc::kInternal, "unknown schema node");
  }

  bool IntValue(const SchemaNode& n, int32_t v) {
    char buf[kMaxTemporalChars];
    if (n.logical == LogicalType::kDate) return sink_.Ascii({buf, FormatDate(v, buf)});
    if (n.logical == LogicalType::kTimeMillis && IsTimeOfDay(v, TimeUnit::kMillis)) {
      return sink_.Ascii({buf, FormatTimeOfDay(v, TimeUnit::kMillis, buf)});
    }
    return sink_.Int(v);
  }

  bool LongValue(const SchemaNode& n, int64_t v) {
    char buf[kMaxTemporalChars];
    switch (n.logical) {
      case LogicalType::kTimeMicros:
        if (IsTimeOfDay(v, TimeUnit::kMicros)) return sink_.Ascii({buf, FormatTimeOfDay(v, TimeUnit::kMicros, buf)});
        break;
      case LogicalType::kTimestampMillis: return sink_.Ascii({buf, FormatTimestamp(v, TimeUnit::kMillis, true, buf)});
      case LogicalType::kTimestampMicros: return sink_.Ascii({buf, FormatTimestamp(v, TimeUnit::kMicros, true, buf)});
      case LogicalType::kTimestampNanos: return sink_.Ascii({buf, FormatTimestamp(v, TimeUnit::kNanos, true, buf)});
      case LogicalType::kLocalTimestampMillis:
        return sink_.Ascii({buf, FormatTimestamp(v, TimeUnit::kMillis, false, buf)});
      case LogicalType::kLocalTimestampMicros:
        return sink_.Ascii({buf, FormatTimestamp(v, TimeUnit::kMicros, false, buf)});
      case LogicalType::kLocalTimestampNanos:
        return sink_.Ascii({buf, FormatTimestamp(v, TimeUnit::kNanos, false, buf)});
      default: break;
    }
    return sink_.Int(v);
  }

  bool BytesValue(const SchemaNode& n, std::span<const uint8_t> b) {
    if (n.logical == LogicalType::kDecimal) return sink_.Decimal(b, n.scale);
    return sink_.Base64(b);
  }

  bool FixedValue(const SchemaNode& n, std::span<const uint8_t> b) {
    switch (n.logical) {
      case LogicalType::kDecimal: return sink_.Decimal(b, n.scale) || SinkFailed();
      case LogicalType::kUuid: {
        char buf[40];
        return sink_.Ascii({buf, FormatUuid(b.first<16>(), buf)}) || SinkFailed();
      }
      case LogicalType::kDuration: {
        const bool ok = sink_.BeginObject(3) && sink_.Key("months", "\"months\":") &&
                        sink_.Int(LoadLe32(b.data())) && sink_.Key("days", ",\"days\":") &&
                        sink_.Int(LoadLe32(b.data() + 4)) &&
                        sink_.Key("milliseconds", ",\"milliseconds\":") && sink_.Int(LoadLe32(b.data() + 8)) &&
                        sink_.EndObject();
        return ok || SinkFailed();
      }
      default: return sink_.Base64(b) || SinkFailed();
    }
  }

  bool Record(const SchemaNode& n, int depth) {
    if (!CheckDepth(depth)) return false;
    if (!sink_.BeginObject(n.fields.size())) return SinkFailed();
    bool first = true;
    for (const SchemaField& f : n.fields) {
      // key_json is ",\"name\":"; the first field skips the comma.
      const std::string_view key = first ? std::string_view(f.key_json).substr(1) : std::string_view(f.key_json);
      first = false;
      if (!sink_.Key(f.name, key)) return SinkFailed();
      if (!Value(*f.type, depth + 1)) {
        path_.push_back("." + f.name);
        return false;
      }
    }
    return sink_.EndObject() || SinkFailed();
  }

  bool Array(const SchemaNode& n, int depth) {
    if (!CheckDepth(depth)) return false;
    if (!sink_.BeginArray()) return SinkFailed();
    const SchemaNode& item = *n.items;
    uint64_t index = 0;
    for (;;) {
      int64_t count = 0;
      const uint8_t* block_end = nullptr;
      if (!ReadBlock(item.min_size, &count, &block_end)) return false;
      if (count == 0) break;
      for (int64_t i = 0; i < count; ++i, ++index) {
        if (index > 0 && !sink_.Comma()) return SinkFailed();
        if (!Value(item, depth + 1)) {
          path_.push_back("[" + std::to_string(index) + "]");
          return false;
        }
      }
      if (!CheckBlockEnd(block_end)) return false;
    }
    return sink_.EndArray() || SinkFailed();
  }

  bool Map(const SchemaNode& n, int depth) {
    if (!CheckDepth(depth)) return false;
    if (!sink_.BeginObject(0)) return SinkFailed();
    const SchemaNode& value = *n.items;
    MapKeySet keys;
    uint64_t index = 0;
    for (;;) {
      int64_t count = 0;
      const uint8_t* block_end = nullptr;
      if (!ReadBlock(1 + value.min_size, &count, &block_end)) return false;
      if (count == 0) break;
      for (int64_t i = 0; i < count; ++i, ++index) {
        if (index > 0 && !sink_.Comma()) return SinkFailed();
        std::span<const uint8_t> kb;
        if (!ReadSized(&kb)) return false;
        const std::string_view key(reinterpret_cast<const char*>(kb.data()), kb.size());
        if (!sink_.MapKey(key)) return SinkFailed();
        if (!keys.Insert(key)) return Fail(Errc::kInvalidArgument, "map repeats a key");
        if (!Value(value, depth + 1)) {
          path_.push_back("[" + std::to_string(index) + "]");
          return false;
        }
      }
      if (!CheckBlockEnd(block_end)) return false;
    }
    return sink_.EndObject() || SinkFailed();
  }

  const uint8_t* begin_;
  const uint8_t* p_;
  const uint8_t* end_;
  Sink& sink_;
  const DecodeOptions& options_;
  Error error_;
  std::vector<std::string> path_;  // filled while unwinding from an error
};

}  // namespace

Result<json::value> DecodeToValue(const Schema& schema, std::span<const uint8_t> data, const DecodeOptions& options) {
  try {
    ValueSink sink(options.max_output_bytes);
    Decoder<ValueSink> decoder(data, &sink, options);
    if (!decoder.Run(schema.root())) return decoder.TakeError();
    return sink.TakeRoot();
  } catch (const std::bad_alloc&) {
    return MakeError(Errc::kResourceExhausted, "avro: out of memory");
  }
}

Status DecodeToJson(const Schema& schema, std::span<const uint8_t> data, std::string* out,
                    const DecodeOptions& options) {
  const size_t start = out->size();
  try {
    // Most records render to less than 3x their binary size.
    const size_t hint = std::min(64 + 3 * data.size(), options.max_output_bytes + 64);
    TextSink sink(out, options.max_output_bytes, hint);
    Decoder<TextSink> decoder(data, &sink, options);
    const bool ok = decoder.Run(schema.root());
    sink.Finish(ok);
    if (!ok) return decoder.TakeError();
    return {};
  } catch (const std::bad_alloc&) {
    out->resize(start);
    return MakeError(Errc::kResourceExhausted, "avro: out of memory");
  }
}

}  // namespace rte::avro
