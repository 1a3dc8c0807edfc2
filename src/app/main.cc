// realtime-events: Kafka in, WebSocket out.
//   realtime-events serve   run the gateway (settings from the environment / .env)
//   realtime-events demo    run it on an embedded Kafka with generated records
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <fmt/format.h>

#include "base/build_info.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "app/demo.h"
#include "auth/authenticator.h"
#include "base/log.h"
#include "config/settings.h"
#include "ingest/registry_decoder.h"
#include "registry/schema_registry_client.h"
#include "server/gateway.h"

namespace {

using rte::config::Environment;
using rte::config::Settings;

std::string VariablesHelp() {
  std::string out = "\nSettings (environment variables, or KEY=value lines in ./.env):\n";
  for (const auto& v : rte::config::DocumentedVariables()) {
    char line[320];
    std::snprintf(line, sizeof line, "  %-33s %-20s %s\n", v.name, v.default_value, v.meaning);
    out += line;
  }
  return out;
}

// Prints a configuration error: one problem on one line, several as
// "realtime-events: N configuration errors:" and one indented line each.
void PrintConfigError(const char* who, const std::string& message) {
  if (message.find('\n') != std::string::npos) {
    std::fprintf(stderr, "%s: %s\n", who, message.c_str());
  } else {
    std::fprintf(stderr, "%s: configuration error: %s\n", who, message.c_str());
  }
}

// Reads the environment and ./.env (or --env-file); exits 2 naming the setting on error.
Environment ReadEnvironment(const std::string& env_file) {
  Environment env = Environment::FromProcess();
  std::string path = env_file.empty() ? ".env" : env_file;
  std::ifstream in(path);
  if (!in) {
    if (!env_file.empty()) {
      std::fprintf(stderr, "realtime-events: configuration error: --env-file %s cannot be read\n", path.c_str());
      std::exit(2);
    }
    return env;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  // Errors name the file a bad value came from: ./.env by its full path (which
  // directory's .env is not obvious), --env-file as given.
  std::error_code ec;
  std::string origin = env_file.empty() ? std::filesystem::absolute(path, ec).string() : path;
  if (ec) origin = path;
  if (auto s = env.MergeDotEnv(ss.str(), origin); !s) {
    PrintConfigError("realtime-events", s.error().message);
    std::exit(2);
  }
  return env;
}

Settings LoadOrExit(const Environment& env, bool require_kafka) {
  auto settings = rte::config::LoadSettings(env, require_kafka);
  if (!settings) {
    PrintConfigError("realtime-events", settings.error().message);
    std::exit(2);
  }
  if (!rte::InitLogging(settings->log_level, settings->log_format)) {
    std::fprintf(stderr, "realtime-events: configuration error: LOG_LEVEL/LOG_FORMAT\n");
    std::exit(2);
  }
  return std::move(*settings);
}

// on_listening: called once the listener is open, after the "listening on" line.
// `bytes` random bytes from the kernel, as hex.
std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  urandom.read(raw.data(), static_cast<std::streamsize>(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

int RunGateway(Settings settings, const std::function<void(const rte::app::DemoGuideInfo&)>& on_listening = {}) {
  const std::string bind = settings.server.bind_address;
  if (settings.auth.mode == rte::config::AuthMode::kNone && !rte::config::IsLoopbackAddress(bind)) {
    spdlog::warn("AUTH_MODE=none on BIND_ADDRESS={} (not a loopback address): every tenant's records are "
                 "readable by anyone who can reach this port",
                 bind);
  }
  spdlog::info("channels: {}", [&] {
    std::string s;
    for (const auto& c : settings.channels) s += c.name + "->" + c.topic + " ";
    return s;
  }());
  spdlog::info("kafka: {} security={} sasl={} user={} password={}", settings.kafka.bootstrap_servers,
               settings.kafka.security_protocol.empty() ? "PLAINTEXT" : settings.kafka.security_protocol,
               settings.kafka.sasl_mechanisms.empty() ? "-" : settings.kafka.sasl_mechanisms,
               settings.kafka.sasl_username.empty() ? "-" : settings.kafka.sasl_username,
               settings.kafka.sasl_password.empty() ? "-" : rte::Redacted());
  // Schema registry: optional. Wrong credentials stop start-up with a clear
  // message; an unreachable registry does not (cached ids keep working and
  // records wait for the ones it has not served yet).
  std::unique_ptr<rte::registry::SchemaRegistryClient> registry;
  std::unique_ptr<rte::ingest::RegistryDecoder> framed;
  if (!settings.registry.url.empty()) {
    rte::registry::SchemaRegistryClientSettings rs;
    rs.url = settings.registry.url;
    rs.user_info = settings.registry.user_info;
    rs.not_found_grace = std::chrono::milliseconds(settings.registry.not_found_grace_ms);
    auto client = rte::registry::SchemaRegistryClient::Create(rs);
    if (!client) {
      std::fprintf(stderr, "realtime-events: configuration error: KAFKA_SCHEMA_REGISTRY_URL/USER: %s\n",
                   client.error().message.c_str());
      return 2;
    }
    registry = std::move(*client);
    rte::Status reachable = registry->CheckConnectivity();
    if (!reachable && (reachable.error().code == rte::Errc::kUnauthenticated ||
                       reachable.error().code == rte::Errc::kPermissionDenied)) {
      std::fprintf(stderr, "realtime-events: KAFKA_SCHEMA_REGISTRY_USER: %s\n", reachable.error().message.c_str());
      return 2;
    }
    if (!reachable) spdlog::warn("schema registry: {} (continuing; schemas are fetched when it answers)", reachable.error().message);
    spdlog::info("schema registry: {} (user {})", settings.registry.url,
                 settings.registry.user_info.empty() ? "-" : settings.registry.user_info.substr(0, settings.registry.user_info.find(':')));
    framed = std::make_unique<rte::ingest::RegistryDecoder>(*registry);
  }
  // Authentication: keys and allowlists are read (and a JWKS fetched) before
  // the listener opens; a bad key file or JWKS URL stops start-up here.
  auto authenticator = rte::auth::Authenticator::Create(settings.auth);
  if (!authenticator) {
    std::fprintf(stderr, "realtime-events: configuration error: %s\n", authenticator.error().message.c_str());
    return 2;
  }
  (*authenticator)->Start();
  if (!(*authenticator)->WaitReady(std::chrono::seconds(5))) {
    spdlog::warn("auth: JWT_JWKS_URL not fetched yet; /readyz stays 503 and tokens are refused until it is");
  }
  spdlog::info("auth: AUTH_MODE={}", rte::config::AuthModeName(settings.auth.mode));
  rte::server::Gateway gateway(std::move(settings), framed.get(), **authenticator, registry.get());
  if (registry) registry->SetOnSettled([&gateway](int32_t id) { gateway.SchemaReady(id); });
  auto port = gateway.Start();
  if (!port) {
    std::fprintf(stderr, "realtime-events: %s\n", port.error().message.c_str());
    return 1;
  }
  const std::string host = bind == "0.0.0.0" ? "127.0.0.1" : bind;
  std::printf("realtime-events listening on %s://%s:%u/\n", gateway.tls() ? "https" : "http", host.c_str(),
              static_cast<unsigned>(*port));
  if (on_listening) {
    rte::app::DemoGuideInfo where;
    where.tls = gateway.tls();
    where.host = host;
    where.port = static_cast<unsigned>(*port);
    on_listening(where);
  }
  std::fflush(stdout);
  gateway.RunUntilSignal();
  gateway.Stop();
  (*authenticator)->Stop();
  registry.reset();  // its thread stops before the gateway it calls back goes away
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"realtime-events: streams Kafka records to WebSocket clients, each seeing only its tenant's records."};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("realtime-events {} ({})", rte::BuildVersion(), rte::BuildCommit()));
  std::string env_file;
  auto* serve = app.add_subcommand("serve", "Run the gateway. Settings come from the environment and ./.env.");
  serve->add_option("--env-file", env_file, "read settings from this file instead of ./.env");
  serve->footer(VariablesHelp());
  auto* demo = app.add_subcommand(
      "demo", "Run the gateway on an embedded Kafka (librdkafka mock cluster) with a producer of realistic "
              "payment/guest/reservation records, and print the test page's URL.");
  double rate = 30;
  int orgs = 5;
  demo->add_option("--rate", rate, "records per second per topic")->check(CLI::Range(0.1, 100000.0));
  demo->add_option("--organizations", orgs, "number of organizations (ids 1..N)")->check(CLI::Range(1, 100000));
  demo->footer("PORT (default 5000), LOG_LEVEL and the other serve settings apply; Kafka settings are ignored.");
  // CLI11 says only "A subcommand is required" for a misspelt one: name it.
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.empty() || arg[0] == '-') continue;  // --help, --version
    if (arg != "serve" && arg != "demo") {
      std::fprintf(stderr, "realtime-events: unknown subcommand \"%s\" (expected serve or demo; see --help)\n",
                   argv[i]);
      return 2;
    }
    break;
  }
  CLI11_PARSE(app, argc, argv);

  if (*serve) return RunGateway(LoadOrExit(ReadEnvironment(env_file), /*require_kafka=*/true));

  // demo: on loopback, open to anyone (it serves generated records), unless
  // BIND_ADDRESS / AUTH_MODE say otherwise.
  Environment env = ReadEnvironment("");
  if (auto b = env.Get("BIND_ADDRESS"); !b || b->empty()) env.Set("BIND_ADDRESS", "127.0.0.1");
  if (auto m = env.Get("AUTH_MODE"); !m || m->empty()) env.Set("AUTH_MODE", "none");
  // The admin view is on in the demo: a random token unless one is set.
  bool admin_token_generated = false;
  if (auto t = env.Get("ADMIN_TOKEN"); !t || t->empty()) {
    env.Set("ADMIN_TOKEN", RandomHex(12));
    admin_token_generated = true;
  }
  Settings probe = LoadOrExit(env, false);
  rte::app::DemoOptions opts;
  opts.records_per_second = rate;
  opts.organizations = orgs;
  for (const auto& ch : probe.channels) {
    if (ch.name == "payment") opts.payment_topic = ch.topic;
    if (ch.name == "guest") opts.guest_topic = ch.topic;
    if (ch.name == "reservation") opts.reservation_topic = ch.topic;
  }
  rte::app::Demo cluster(opts);
  auto endpoints = cluster.StartCluster();
  if (!endpoints) {
    std::fprintf(stderr, "realtime-events demo: %s\n", endpoints.error().message.c_str());
    return 1;
  }
  env.Set("KAFKA_BOOTSTRAP_SERVER", endpoints->bootstrap_servers);
  env.Set("KAFKA_SCHEMA_REGISTRY_URL", endpoints->registry_url);
  env.Set("KAFKA_SCHEMA_REGISTRY_USER", "");
  env.Set("KAFKA_SECURITY_PROTOCOL", "");
  env.Set("KAFKA_SASL_MECHANISMS", "");
  env.Set("KAFKA_CONFIG", endpoints->kafka_config);
  auto settings = rte::config::LoadSettings(env, true);
  if (!settings) {
    PrintConfigError("realtime-events demo", settings.error().message);
    return 2;
  }
  spdlog::info("demo: embedded Kafka at {}, schema registry at {}; producing Avro records, {}/s per topic, for "
               "organizations 1..{}", endpoints->bootstrap_servers, endpoints->registry_url, rate, orgs);
  cluster.StartProducing();
  const std::string admin_token = settings->server.admin_token;
  int rc = RunGateway(std::move(*settings), [&](const rte::app::DemoGuideInfo& where) {
    rte::app::DemoGuideInfo with_admin = where;
    with_admin.admin_token = admin_token;
    with_admin.admin_token_generated = admin_token_generated;
    std::fputs(rte::app::DemoGuide(opts, with_admin).c_str(), stdout);
  });
  cluster.Stop();
  return rc;
}
