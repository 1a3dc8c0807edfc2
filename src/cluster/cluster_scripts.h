// The Lua scripts ClusterState runs in Redis (EVALSHA, loaded with SCRIPT
// LOAD on each connect; EVAL when Redis answers NOSCRIPT). Keys are built
// inside the scripts from ARGV (prefix P, this node's encoded name N), so
// they are called with numkeys 0: fine for a standalone Redis, which is all
// hiredis 0.14 speaks (no Cluster). Key layout: docs/scaling.md.
// Thread: constants.
#pragma once

namespace rte::cluster::scripts {

// A node is alive while its key P n:<node> exists (it expires with the
// heartbeat). Dead names found in P nodes are removed (SREM) on the way.
#define RTE_LUA_LIVE_NODES                                              \
  "local function live_nodes(P, me)\n"                                  \
  "  local out = {}\n"                                                  \
  "  local seen = false\n"                                              \
  "  for _, n in ipairs(redis.call('SMEMBERS', P..'nodes')) do\n"       \
  "    if n == me then seen = true; out[#out+1] = n\n"                  \
  "    elseif redis.call('EXISTS', P..'n:'..n) == 1 then out[#out+1] = n\n" \
  "    else redis.call('SREM', P..'nodes', n) end\n"                    \
  "  end\n"                                                             \
  "  if me and not seen then out[#out+1] = me end\n"                    \
  "  return out\n"                                                      \
  "end\n"

// ARGV: P, N, ttl_ms, user ('' = none), user_limit, org_limit, org...
// Returns {0} admitted (counted on N), {1, count} over the user limit,
// {2, count, org} over an organization's limit. Limits 0 = none (also used to
// count a connection again after a resync).
inline constexpr const char kAdmit[] = RTE_LUA_LIVE_NODES
    "local P, me, ttl = ARGV[1], ARGV[2], ARGV[3]\n"
    "local user, ulim, olim = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])\n"
    "if (user ~= '' and ulim > 0) or olim > 0 then\n"
    "  local nodes = live_nodes(P, me)\n"
    "  local function total(field)\n"
    "    local s = 0\n"
    "    for _, n in ipairs(nodes) do\n"
    "      s = s + tonumber(redis.call('HGET', P..'n:'..n..':c', field) or '0')\n"
    "    end\n"
    "    return s\n"
    "  end\n"
    "  if user ~= '' and ulim > 0 then\n"
    "    local t = total('u:'..user)\n"
    "    if t >= ulim then return {1, t} end\n"
    "  end\n"
    "  if olim > 0 then\n"
    "    for i = 7, #ARGV do\n"
    "      local t = total('o:'..ARGV[i])\n"
    "      if t >= olim then return {2, t, ARGV[i]} end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local ck = P..'n:'..me..':c'\n"
    "redis.call('HINCRBY', ck, 'n', 1)\n"
    "if user ~= '' then redis.call('HINCRBY', ck, 'u:'..user, 1) end\n"
    "for i = 7, #ARGV do redis.call('HINCRBY', ck, 'o:'..ARGV[i], 1) end\n"
    "redis.call('PEXPIRE', ck, ttl)\n"
    "return {0}\n";

// ARGV: P, N, user ('' = none), org...  Uncounts one connection.
inline constexpr const char kRelease[] =
    "local ck = ARGV[1]..'n:'..ARGV[2]..':c'\n"
    "local function dec(f)\n"
    "  if redis.call('HINCRBY', ck, f, -1) <= 0 then redis.call('HDEL', ck, f) end\n"
    "end\n"
    "dec('n')\n"
    "if ARGV[3] ~= '' then dec('u:'..ARGV[3]) end\n"
    "for i = 4, #ARGV do dec('o:'..ARGV[i]) end\n"
    "return 0\n";

// ARGV: ttl_ms, index key, then (key, field, value) triples: presence
// entries written with the node's TTL, each key listed in the node's index.
inline constexpr const char kPresenceWrite[] =
    "local ttl, ik = ARGV[1], ARGV[2]\n"
    "for i = 3, #ARGV, 3 do\n"
    "  redis.call('HSET', ARGV[i], ARGV[i+1], ARGV[i+2])\n"
    "  redis.call('PEXPIRE', ARGV[i], ttl)\n"
    "  redis.call('SADD', ik, ARGV[i])\n"
    "end\n"
    "redis.call('PEXPIRE', ik, ttl)\n"
    "return 0\n";

// ARGV: P, N, 'reset' | 'stop'. Deletes every key of node N (its presence
// keys through the index); 'stop' also removes N from P nodes.
inline constexpr const char kReset[] =
    "local P, me = ARGV[1], ARGV[2]\n"
    "local nk = P..'n:'..me\n"
    "local ik = nk..':k'\n"
    "for _, k in ipairs(redis.call('SMEMBERS', ik)) do redis.call('DEL', k) end\n"
    "redis.call('DEL', ik, nk..':c', nk)\n"
    "if ARGV[3] == 'stop' then redis.call('SREM', P..'nodes', me) end\n"
    "return 0\n";

// ARGV: P, N, url, started_ms, ttl_ms. The heartbeat: (re)writes the node
// key, extends the TTL of all of N's keys (dropping index entries whose key
// is gone). Returns 1 if the node key still existed, 0 if it had expired
// (the caller then resyncs).
inline constexpr const char kHeartbeat[] =
    "if redis.replicate_commands then pcall(redis.replicate_commands) end\n"
    "local P, me, ttl = ARGV[1], ARGV[2], ARGV[5]\n"
    "local nk = P..'n:'..me\n"
    "local existed = redis.call('EXISTS', nk)\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "redis.call('HSET', nk, 'url', ARGV[3], 'started_ms', ARGV[4], 'last_seen_ms', tostring(now))\n"
    "redis.call('PEXPIRE', nk, ttl)\n"
    "redis.call('SADD', P..'nodes', me)\n"
    "redis.call('PEXPIRE', nk..':c', ttl)\n"
    "local ik = nk..':k'\n"
    "if redis.call('PEXPIRE', ik, ttl) == 1 then\n"
    "  for _, k in ipairs(redis.call('SMEMBERS', ik)) do\n"
    "    if redis.call('PEXPIRE', k, ttl) == 0 then redis.call('SREM', ik, k) end\n"
    "  end\n"
    "end\n"
    "return existed\n";

// ARGV: P. {{name, url, started_ms, last_seen_ms, connections}, ...} of live nodes.
inline constexpr const char kNodes[] = RTE_LUA_LIVE_NODES
    "local P = ARGV[1]\n"
    "local out = {}\n"
    "for _, n in ipairs(live_nodes(P, nil)) do\n"
    "  local nk = P..'n:'..n\n"
    "  local h = redis.call('HMGET', nk, 'url', 'started_ms', 'last_seen_ms')\n"
    "  local c = redis.call('HGET', nk..':c', 'n')\n"
    "  out[#out+1] = {n, h[1] or '', h[2] or '0', h[3] or '0', c or '0'}\n"
    "end\n"
    "return out\n";

// ARGV: P, suffix ("p:<channel>:<org>"). {node, value, node, value, ...}
// over the live nodes' presence hashes of that channel and organization.
inline constexpr const char kPresence[] =
    "local P, suffix = ARGV[1], ARGV[2]\n"
    "local out = {}\n"
    "for _, n in ipairs(redis.call('SMEMBERS', P..'nodes')) do\n"
    "  local nk = P..'n:'..n\n"
    "  if redis.call('EXISTS', nk) == 1 then\n"
    "    for _, v in ipairs(redis.call('HVALS', nk..':'..suffix)) do\n"
    "      out[#out+1] = n\n"
    "      out[#out+1] = v\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n";

// ARGV: P. {org, count, org, count, ...} summed over the live nodes.
inline constexpr const char kCounts[] =
    "local P = ARGV[1]\n"
    "local sums, order = {}, {}\n"
    "for _, n in ipairs(redis.call('SMEMBERS', P..'nodes')) do\n"
    "  local nk = P..'n:'..n\n"
    "  if redis.call('EXISTS', nk) == 1 then\n"
    "    local h = redis.call('HGETALL', nk..':c')\n"
    "    for i = 1, #h, 2 do\n"
    "      if string.sub(h[i], 1, 2) == 'o:' then\n"
    "        local o = string.sub(h[i], 3)\n"
    "        if not sums[o] then sums[o] = 0; order[#order+1] = o end\n"
    "        sums[o] = sums[o] + tonumber(h[i+1])\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local out = {}\n"
    "for _, o in ipairs(order) do out[#out+1] = o; out[#out+1] = sums[o] end\n"
    "return out\n";

#undef RTE_LUA_LIVE_NODES

}  // namespace rte::cluster::scripts
