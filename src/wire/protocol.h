// The JSON protocol between clients and the gateway (docs/protocol.md):
// parsing of client commands and rendering of server messages. Pure code.
// Thread: free functions, no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rte::wire {

// Error codes of {"type":"error"} messages.
inline constexpr std::string_view kErrBadRequest = "bad_request";
inline constexpr std::string_view kErrUnknownChannel = "unknown_channel";
inline constexpr std::string_view kErrForbidden = "forbidden";
inline constexpr std::string_view kErrUnauthorized = "unauthorized";
inline constexpr std::string_view kErrLimitExceeded = "limit_exceeded";
inline constexpr std::string_view kErrInternal = "internal";

struct Filter {
  std::string organization_id;             // required
  std::optional<std::string> property_id;  // absent: every property
};

struct ClientCommand {
  enum class Type { kSubscribe, kUnsubscribe, kPing, kAuth };
  Type type = Type::kPing;
  std::string id;       // echoed in the reply; may be empty
  std::string channel;  // subscribe / unsubscribe
  Filter filter;
  // subscribe: last offset seen per partition ("since"), or a time (ms
  // since the epoch, "since_time") to resume from; -1: none.
  std::vector<std::pair<int32_t, int64_t>> since;
  int64_t since_time_ms = -1;
  std::string token;    // auth
};

struct CommandError {
  std::string id;  // the command's id if it could be read
  std::string message;
};

// Parses one text frame. Ids in filters are accepted as strings or integers
// and kept as strings. Unknown fields are ignored; a wrong type is an error.
// Returns the command or a bad_request error description.
std::pair<std::optional<ClientCommand>, CommandError> ParseClientCommand(std::string_view text);

// Server messages (JSON text, not framed).
std::string RenderSubscribed(std::string_view id, std::string_view channel, bool recovered, int64_t replayed);
std::string RenderUnsubscribed(std::string_view id, std::string_view channel);
std::string RenderError(std::string_view id, std::string_view code, std::string_view message);

// Events of one partition dropped from a slow client's queue: offsets
// `from`..`to` (the ones of its subscriptions among them, `count` in all).
struct GapRange {
  int32_t partition = 0;
  int64_t from = 0;
  int64_t to = 0;
  int64_t count = 0;
};
// {"type":"gap","channel":...,"dropped":N,"partitions":{"P":{"from":F,"to":T}},"since":{"P":F-1}}:
// `since` is what to subscribe with to get the dropped events back.
std::string RenderGap(std::string_view channel, const std::vector<GapRange>& ranges);
inline std::string_view PingMessage() { return R"({"type":"ping"})"; }
// {"type":"status","kafka":"unavailable"} during a Kafka outage, "available" after it.
inline std::string_view KafkaStatusMessage(bool available) {
  return available ? R"({"type":"status","kafka":"available"})" : R"({"type":"status","kafka":"unavailable"})";
}
inline std::string_view PongMessage() { return R"({"type":"pong"})"; }

// The prototype endpoint's resume parameters: since=PARTITION:OFFSET[,...]
// (last offsets seen) and since_time=MS. nullopt when malformed.
std::optional<std::vector<std::pair<int32_t, int64_t>>> ParseSinceList(std::string_view text);
std::optional<int64_t> ParseSinceTime(std::string_view text);

// Identifiers from clients (organization, property and user ids): 1 to
// `max_length` characters from [A-Za-z0-9._:@-]. Anything else is rejected
// before it reaches an index, a log line or a metric.
bool IsValidIdentifier(std::string_view id, size_t max_length);

// {"type":"authenticated"}: the reply to a successful {"type":"auth"};
// `expires_ms` < 0 renders "expires":null.
std::string RenderAuthenticated(std::string_view id, std::string_view user, int64_t expires_ms);

// Appends `s` as a JSON string literal (quoted, escaped). `s` must be UTF-8.
void AppendJsonString(std::string* out, std::string_view s);

// The event message. key_json and value_json are JSON texts (already valid).
void RenderEvent(std::string* out, std::string_view channel, std::string_view topic, int32_t partition,
                 int64_t offset, int64_t timestamp_ms, std::string_view key_json, std::string_view value_json);

}  // namespace rte::wire
