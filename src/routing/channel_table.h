// ChannelTable: the configured channels, by name and by topic, with dense ids.
// Thread: built once at start-up, then read-only and shared by all threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/settings.h"

namespace rte::routing {

using ChannelId = uint16_t;

class ChannelTable {
 public:
  explicit ChannelTable(std::vector<config::ChannelConfig> channels);

  std::optional<ChannelId> Find(std::string_view name) const;
  const config::ChannelConfig& Get(ChannelId id) const { return channels_[id]; }
  size_t size() const { return channels_.size(); }
  // Channels reading `topic` (usually one), empty if none.
  const std::vector<ChannelId>& ForTopic(std::string_view topic) const;
  // Distinct topics, in configuration order.
  const std::vector<std::string>& topics() const { return topics_; }

 private:
  std::vector<config::ChannelConfig> channels_;
  std::unordered_map<std::string, ChannelId> by_name_;
  std::unordered_map<std::string, std::vector<ChannelId>> by_topic_;
  std::vector<std::string> topics_;
};

}  // namespace rte::routing
