#include "routing/channel_table.h"

#include "base/check.h"

namespace rte::routing {

ChannelTable::ChannelTable(std::vector<config::ChannelConfig> channels) : channels_(std::move(channels)) {
  RTE_CHECK(channels_.size() < 65535);
  for (size_t i = 0; i < channels_.size(); ++i) {
    const auto id = static_cast<ChannelId>(i);
    by_name_.emplace(channels_[i].name, id);
    auto [it, inserted] = by_topic_.try_emplace(channels_[i].topic);
    if (inserted) topics_.push_back(channels_[i].topic);
    it->second.push_back(id);
  }
}

std::optional<ChannelId> ChannelTable::Find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

const std::vector<ChannelId>& ChannelTable::ForTopic(std::string_view topic) const {
  static const std::vector<ChannelId> kNone;
  auto it = by_topic_.find(std::string(topic));
  return it == by_topic_.end() ? kNone : it->second;
}

}  // namespace rte::routing
