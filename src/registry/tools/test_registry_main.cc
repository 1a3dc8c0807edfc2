// rte-test-registry: our Confluent-compatible schema registry as a process,
// for integration tests and local runs.
//   rte-test-registry [--host 127.0.0.1] [--port 0] [--user key:secret]
// Prints "rte-test-registry listening on http://HOST:PORT" once it accepts
// connections, then serves until SIGTERM or SIGINT. Faults are switched over
// HTTP (registry/testing/fault_injector.h: POST /_admin/faults); SIGUSR1 takes
// the registry down (listener and connections closed: clients are refused)
// and SIGUSR2 brings it back on the same port with the same schemas, each
// acknowledged on stdout ("rte-test-registry down" / "... up").
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "registry/registry_server.h"
#include "registry/testing/fault_injector.h"

namespace {

void Usage(FILE* out) {
  std::fprintf(out,
               "usage: rte-test-registry [--host 127.0.0.1] [--port 0] [--user key:secret]\n"
               "Serves the Confluent Schema Registry REST subset until SIGTERM/SIGINT.\n"
               "Faults: POST /_admin/faults {\"mode\":\"none|401|403|404|429|500|503|slow|drop\","
               "\"delay_ms\":N}\n"
               "SIGUSR1: go down (connections refused); SIGUSR2: come back up on the same port.\n");
}

}  // namespace

int main(int argc, char** argv) {
  rte::registry::testing::FaultInjector faults;
  rte::registry::RegistryServerOptions options;
  options.hook = &faults;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "rte-test-registry: %.*s needs a value\n",
                     static_cast<int>(name.size()), name.data());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--host") {
      options.host = value(arg);
    } else if (arg == "--port") {
      const std::string_view p = value(arg);
      unsigned port = 0;
      auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
      if (ec != std::errc() || ptr != p.data() + p.size() || port > 65535) {
        std::fprintf(stderr, "rte-test-registry: --port must be 0..65535\n");
        return 2;
      }
      options.port = static_cast<uint16_t>(port);
    } else if (arg == "--user") {
      options.user_info = value(arg);
      if (options.user_info.find(':') == std::string::npos) {
        std::fprintf(stderr, "rte-test-registry: --user must be key:secret\n");
        return 2;
      }
    } else if (arg == "--help" || arg == "-h") {
      Usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "rte-test-registry: unknown argument '%.*s'\n",
                   static_cast<int>(arg.size()), arg.data());
      Usage(stderr);
      return 2;
    }
  }

  // Block the signals before any thread starts so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  rte::registry::RegistryServer server(options);
  rte::Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "rte-test-registry: %s\n", started.error().message.c_str());
    return 1;
  }
  std::printf("rte-test-registry listening on %s\n", server.url().c_str());
  std::fflush(stdout);

  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig == SIGUSR1) {
      server.Stop();
      std::printf("rte-test-registry down\n");
    } else if (sig == SIGUSR2) {
      rte::Status up = server.Start();
      if (!up.ok()) {
        std::fprintf(stderr, "rte-test-registry: %s\n", up.error().message.c_str());
        return 1;
      }
      std::printf("rte-test-registry up\n");
    } else {
      break;
    }
    std::fflush(stdout);
  }
  server.Stop();
  std::fprintf(stderr, "rte-test-registry: stopped by signal %d after %llu requests\n", sig,
               static_cast<unsigned long long>(server.requests()));
  return 0;
}
