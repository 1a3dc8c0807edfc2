"""Fixtures for the deployment-artifact checks (tests/deploy): the gateway binary,
its list of settings (from `realtime-events serve --help`), a running gateway
to ask the probe paths, and the parsed deploy/ files."""

import subprocess

import pytest

from deploy_helpers import DEPLOY, K8S, SETTING_LINE_RE, GatewayProcess, base_env, gateway_binary, load_yaml_docs


@pytest.fixture(scope="session")
def binary():
    return gateway_binary()


@pytest.fixture(scope="session")
def settings_help(binary, tmp_path_factory):
    out = subprocess.run([binary, "serve", "--help"], env=base_env(), cwd=tmp_path_factory.mktemp("help"),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="session")
def settings(settings_help):
    """Every variable name `realtime-events serve --help` lists."""
    text = settings_help
    start = text.find("Settings (environment variables")
    assert start >= 0, f"no settings section in serve --help:\n{text}"
    names = set()
    for line in text[start:].splitlines()[1:]:
        m = SETTING_LINE_RE.match(line)
        if m:
            names.add(m.group(1))
    # Sanity: the parse found the table, not a couple of stray words.
    assert len(names) >= 40, sorted(names)
    assert {"KAFKA_BOOTSTRAP_SERVER", "DRAIN_TIMEOUT", "AUTH_MODE", "PORT", "BIND_ADDRESS"} <= names
    return names


@pytest.fixture(scope="session")
def start_gateway(binary, tmp_path_factory):
    """Factory: start_gateway(env_dict, args=()) -> GatewayProcess (not waited
    for). Every process is stopped at the end of the session."""
    procs = []

    def start(env, args=()):
        cwd = tmp_path_factory.mktemp("gw")  # no ./.env
        p = GatewayProcess(binary, env, cwd, args)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()


@pytest.fixture(scope="session")
def gateway_url(start_gateway):
    """A gateway on loopback with a Kafka that is not there (127.0.0.1:1): it
    listens, /healthz answers 200 and /readyz 503."""
    gw = start_gateway(base_env(PORT=0, BIND_ADDRESS="127.0.0.1", KAFKA_BOOTSTRAP_SERVER="127.0.0.1:1",
                                DRAIN_TIMEOUT=1, LOG_LEVEL="warn"))
    port = gw.wait_listening()
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def k8s_docs():
    """{kind: [object, ...]} of every manifest under deploy/k8s."""
    by_kind = {}
    for path in sorted(K8S.glob("*.y*ml")):
        for doc in load_yaml_docs(path):
            doc["__file__"] = path.name
            by_kind.setdefault(doc.get("kind"), []).append(doc)
    return by_kind


@pytest.fixture(scope="session")
def compose():
    path = DEPLOY / "compose.yaml"
    assert path.is_file(), "deploy/compose.yaml is missing"
    docs = load_yaml_docs(path)
    assert len(docs) == 1
    return docs[0]
