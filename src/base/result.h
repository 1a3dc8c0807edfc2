// Result<T>: a value or an Error, for code that must not throw (the data path,
// untrusted input). Error carries a machine code and a human message.
// Thread: plain value types; no shared state.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace rte {

enum class Errc {
  kOk = 0,
  kInvalidArgument,   // caller gave bad input (bad frame, bad record, bad config)
  kNotFound,          // unknown id, channel, field
  kOutOfRange,        // a length or count beyond its bound
  kUnavailable,       // a dependency (registry, broker) is down; retry later
  kUnauthenticated,
  kPermissionDenied,
  kResourceExhausted, // a queue or limit is full
  kUnsupported,       // a format or feature we recognise but do not handle
  kInternal,
};

const char* ErrcName(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT(implicit)
  Result(Error error) : v_(std::move(error)) {}        // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : ok_(false), error_(std::move(error)) {}  // NOLINT(implicit)
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  bool ok_ = true;
  Error error_;
};

inline Error MakeError(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace rte
