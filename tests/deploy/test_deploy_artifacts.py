"""Checks of the deployment artifacts in deploy/ (Dockerfile, compose stack,
HAProxy, Kubernetes manifests) against each other and against the real gateway:
settings names come from `realtime-events serve --help`, probe paths are asked
of a running `realtime-events serve`, the shipped configurations are loaded by
the gateway's own configuration code. Pure Python + the binary: nothing here
needs Docker or a cluster, so nothing is skipped."""

import re
import shlex
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from deploy_helpers import DEPLOY, K8S, REPO, base_env, load_yaml_docs, one

ENV_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
DEFAULT_DRAIN_TIMEOUT = 10  # realtime-events serve --help


# ---------------------------------------------------------------- helpers


def http_status(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def go_duration_seconds(text):
    """Compose durations ("20s", "1m30s", "500ms", "1h")."""
    text = str(text).strip()
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a duration: {text!r}"
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 0.000001}
    return sum(float(n) * scale[u] for n, u in parts)


def haproxy_duration_seconds(text):
    """HAProxy time values: a number with an optional unit (default ms)."""
    m = re.fullmatch(r"(\d+)(us|ms|s|m|h|d)?", text.strip())
    assert m, f"not an HAProxy duration: {text!r}"
    scale = {"us": 1e-6, "ms": 1e-3, None: 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(m.group(1)) * scale[m.group(2)]


def read_env_file(path):
    """KEY=value lines (compose env_file / the gateway's --env-file format)."""
    out = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert "=" in line, f"{path}:{n}: not KEY=value: {line!r}"
        key, value = line.split("=", 1)
        key = key.strip()
        assert ENV_NAME_RE.match(key), f"{path}:{n}: bad variable name {key!r}"
        assert key not in out, f"{path}:{n}: {key} set twice"
        out[key] = value.strip()
    return out


def dockerfile_instructions(path):
    """[(INSTRUCTION, arguments)] with line continuations joined and comment
    lines dropped (also inside continuations, as Docker does)."""
    out, current = [], ""
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.strip():
            word, _, rest = current.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
        current = ""
    return out


def dockerfile_stages(path):
    """(global ARG defaults, [[(instruction, args), ...] per stage])."""
    args, stages = {}, []
    for ins, rest in dockerfile_instructions(path):
        if ins == "FROM":
            stages.append([(ins, rest)])
        elif not stages:
            if ins == "ARG" and "=" in rest:
                k, v = rest.split("=", 1)
                args[k.strip()] = v.strip()
        else:
            stages[-1].append((ins, rest))
    return args, stages


def stage_base(from_args, global_args):
    image = [w for w in from_args.split() if not w.startswith("--")][0]
    return re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), image)


def dockerfile_env(rest):
    """ENV k=v k2="v 2" (the legacy `ENV k v` form too)."""
    words = shlex.split(rest)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(w.split("=", 1) for w in words)


def exec_form(rest):
    import json
    return json.loads(rest)


def pod_spec(deployment):
    return deployment["spec"]["template"]["spec"]


def gateway_container(deployment):
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1, "one container expected (the gateway)"
    return containers[0]


def lb_config():
    """(kind, text) of the load balancer config in deploy/: haproxy.cfg or nginx.conf."""
    for name, kind in (("haproxy.cfg", "haproxy"), ("nginx.conf", "nginx")):
        p = DEPLOY / name
        if p.is_file():
            return kind, p.read_text(encoding="utf-8")
    pytest.fail("no load balancer config (deploy/haproxy.cfg or deploy/nginx.conf)")


def haproxy_sections(text):
    """{"backend gateways": [lines], ...} without comments."""
    sections, current = {}, None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw[0].isspace():
            current = " ".join(line.split())
            sections[current] = []
        elif current:
            sections[current].append(" ".join(line.split()))
    return sections


def compose_gateways(compose):
    """Compose services built from deploy/Dockerfile."""
    out = {}
    for name, svc in compose["services"].items():
        build = svc.get("build")
        if isinstance(build, dict) and (Path(DEPLOY, build.get("context", "."), build.get("dockerfile", "Dockerfile"))
                                        .resolve() == (DEPLOY / "Dockerfile").resolve()):
            out[name] = svc
    return out


def compose_env(svc):
    """The environment compose gives a service: env_file(s), then `environment`."""
    env = {}
    files = svc.get("env_file", [])
    files = [files] if isinstance(files, (str, dict)) else files
    for f in files:
        path = f["path"] if isinstance(f, dict) else f
        env.update(read_env_file(DEPLOY / path))
    environment = svc.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    env.update({k: str(v) for k, v in environment.items()})
    return env


def compose_healthcheck_paths(svc):
    test = (svc.get("healthcheck") or {}).get("test")
    text = " ".join(test) if isinstance(test, list) else str(test or "")
    return re.findall(r"GET (/\S*) HTTP", text) + re.findall(r"https?://[^/\s]+(/[^\s'\"]*)", text)


def prestop_seconds(container):
    pre = (container.get("lifecycle") or {}).get("preStop") or {}
    if "sleep" in pre:
        return int(pre["sleep"]["seconds"])
    cmd = (pre.get("exec") or {}).get("command") or []
    m = re.search(r"\bsleep\s+(\d+)", " ".join(map(str, cmd)))
    return int(m.group(1)) if m else 0


# ---------------------------------------------------------------- YAML


YAML_FILES = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_deploy_has_yaml_files():
    names = {p.relative_to(DEPLOY).as_posix() for p in YAML_FILES}
    assert {"compose.yaml", "k8s/kustomization.yaml", "k8s/deployment.yaml"} <= names, names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_yaml_parses(path):
    docs = load_yaml_docs(path)
    assert docs, f"{path} holds no YAML document"
    for d in docs:
        assert isinstance(d, dict), f"{path}: a document is not a mapping"


# ---------------------------------------------------------------- Kubernetes


def test_every_k8s_object_is_identified(k8s_docs):
    for kind, objs in k8s_docs.items():
        for o in objs:
            where = o["__file__"]
            assert o.get("apiVersion"), f"{where}: no apiVersion"
            assert kind, f"{where}: no kind"
            if kind != "Kustomization":
                assert (o.get("metadata") or {}).get("name"), f"{where}: {kind} without metadata.name"


def test_kustomization_lists_every_manifest(k8s_docs):
    k = one(k8s_docs, "Kustomization")
    assert k["apiVersion"].startswith("kustomize.config.k8s.io/")
    resources = k.get("resources", [])
    for r in resources:
        assert (K8S / r).is_file(), f"kustomization.yaml lists {r}, which does not exist"
    manifests = {p.name for p in K8S.glob("*.y*ml")} - {"kustomization.yaml", "kustomization.yml"}
    assert set(resources) == manifests, f"listed {sorted(resources)}, present {sorted(manifests)}"
    # The image name kustomize rewrites is the one the Deployment uses.
    dep = one(k8s_docs, "Deployment")
    image = gateway_container(dep)["image"]
    for entry in k.get("images", []):
        assert image.split(":")[0].split("@")[0] == entry["name"], f"images[].name {entry['name']} != {image}"


def test_expected_kinds_and_api_versions(k8s_docs):
    want = {"Deployment": "apps/v1", "Service": "v1", "PodDisruptionBudget": "policy/v1",
            "HorizontalPodAutoscaler": "autoscaling/v2", "ConfigMap": "v1", "Secret": "v1"}
    for kind, api in want.items():
        assert one(k8s_docs, kind)["apiVersion"] == api, kind


def test_deployment_selector_matches_pod_labels(k8s_docs):
    dep = one(k8s_docs, "Deployment")
    match = dep["spec"]["selector"]["matchLabels"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert match and all(labels.get(k) == v for k, v in match.items()), (match, labels)
    assert dep["spec"]["replicas"] == 2


def test_deployment_container(k8s_docs):
    dep = one(k8s_docs, "Deployment")
    c = gateway_container(dep)
    ports = {p.get("name"): p for p in c["ports"]}
    assert ports.get("http", {}).get("containerPort") == 5000, c["ports"]
    # envFrom: the ConfigMap and the Secret of deploy/k8s, by name.
    cm, secret = one(k8s_docs, "ConfigMap"), one(k8s_docs, "Secret")
    refs = c.get("envFrom", [])
    assert {"configMapRef": {"name": cm["metadata"]["name"]}} in refs, refs
    assert {"secretRef": {"name": secret["metadata"]["name"]}} in refs, refs
    # The container listens where the ConfigMap says.
    assert str(cm["data"].get("PORT", "5000")) == "5000"
    assert cm["data"].get("BIND_ADDRESS", "0.0.0.0") not in ("127.0.0.1", "::1")


def probe_port_ok(container, port):
    names = {p.get("name") for p in container["ports"]}
    numbers = {p["containerPort"] for p in container["ports"]}
    return port in names or port in numbers


def test_deployment_probes(k8s_docs):
    c = gateway_container(one(k8s_docs, "Deployment"))
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # A Kafka outage turns /readyz 503: liveness must not restart on it.
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for name in ("readinessProbe", "livenessProbe", "startupProbe"):
        if name in c:
            assert probe_port_ok(c, c[name]["httpGet"]["port"]), f"{name} port {c[name]['httpGet']['port']}"


def test_deployment_security_and_resources(k8s_docs):
    dep = one(k8s_docs, "Deployment")
    spec, c = pod_spec(dep), gateway_container(dep)
    pod_sc, sc = spec.get("securityContext", {}), c.get("securityContext", {})
    assert pod_sc.get("runAsNonRoot") is True or sc.get("runAsNonRoot") is True
    uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
    assert uid not in (None, 0), "runAsUser must be set and not root (the image runs as 10001)"
    assert sc.get("readOnlyRootFilesystem") is True
    assert sc.get("allowPrivilegeEscalation") is False
    res = c["resources"]
    assert res["requests"]["cpu"] and res["requests"]["memory"] and res["limits"]["memory"]


def test_deployment_prometheus_annotations(k8s_docs):
    dep = one(k8s_docs, "Deployment")
    ann = dep["spec"]["template"]["metadata"].get("annotations", {})
    assert ann.get("prometheus.io/scrape") == "true"
    assert ann.get("prometheus.io/path") == "/metrics"
    assert int(ann.get("prometheus.io/port")) == 5000


def test_workers_not_above_cpu_limit(k8s_docs):
    """WORKERS defaults to the node's core count, which ignores the CPU limit."""
    dep, cm = one(k8s_docs, "Deployment"), one(k8s_docs, "ConfigMap")
    workers = int(cm["data"]["WORKERS"])
    cpu = str(gateway_container(dep)["resources"]["limits"]["cpu"])
    cores = int(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
    assert 1 <= workers <= max(1, cores), (workers, cpu)


def test_termination_grace_exceeds_prestop_and_drain(k8s_docs):
    dep, cm = one(k8s_docs, "Deployment"), one(k8s_docs, "ConfigMap")
    drain = int(cm["data"].get("DRAIN_TIMEOUT", DEFAULT_DRAIN_TIMEOUT))
    pre = prestop_seconds(gateway_container(dep))
    assert pre > 0, "a preStop sleep lets the endpoints go before the drain starts"
    grace = pod_spec(dep)["terminationGracePeriodSeconds"]
    assert grace > pre + drain, f"terminationGracePeriodSeconds {grace} <= preStop {pre} + DRAIN_TIMEOUT {drain}"


def test_service_selects_the_pods_and_ports_exist(k8s_docs):
    dep, svc = one(k8s_docs, "Deployment"), one(k8s_docs, "Service")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    sel = svc["spec"]["selector"]
    assert sel and all(labels.get(k) == v for k, v in sel.items()), (sel, labels)
    c = gateway_container(dep)
    for p in svc["spec"]["ports"]:
        target = p.get("targetPort", p["port"])
        assert probe_port_ok(c, target), f"Service targetPort {target} is not a container port"


def test_pdb_selects_the_pods(k8s_docs):
    dep, pdb = one(k8s_docs, "Deployment"), one(k8s_docs, "PodDisruptionBudget")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    sel = pdb["spec"]["selector"]["matchLabels"]
    assert sel and all(labels.get(k) == v for k, v in sel.items()), (sel, labels)
    assert pdb["spec"]["minAvailable"] == 1
    assert dep["spec"]["replicas"] > pdb["spec"]["minAvailable"], "the PDB would block every eviction"


def test_hpa_targets_the_deployment(k8s_docs):
    dep, hpa = one(k8s_docs, "Deployment"), one(k8s_docs, "HorizontalPodAutoscaler")
    ref = hpa["spec"]["scaleTargetRef"]
    assert (ref["apiVersion"], ref["kind"], ref["name"]) == ("apps/v1", "Deployment", dep["metadata"]["name"])
    assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
    cpu = [m for m in hpa["spec"]["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
    assert cpu, "the HPA scales on CPU"
    # CPU utilisation is relative to the request: there must be one.
    assert gateway_container(dep)["resources"]["requests"]["cpu"]


def test_secret_holds_the_secrets_and_configmap_none(k8s_docs):
    cm, secret = one(k8s_docs, "ConfigMap"), one(k8s_docs, "Secret")
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    secrets = {"KAFKA_SASL_PASSWORD", "JWT_SECRET", "KAFKA_SCHEMA_REGISTRY_USER", "ADMIN_TOKEN"}
    assert secrets <= secret_keys, secret_keys
    assert not secrets & set(cm["data"]), "secret values belong in the Secret"
    for k, v in cm["data"].items():
        assert isinstance(v, str), f"ConfigMap {k}: values must be strings (quote numbers)"


# ---------------------------------------------------------------- settings names


def test_every_env_name_is_a_gateway_setting(k8s_docs, compose, settings):
    sources = {}
    cm, secret = one(k8s_docs, "ConfigMap"), one(k8s_docs, "Secret")
    sources["k8s ConfigMap"] = set(cm["data"])
    sources["k8s Secret"] = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    for c in pod_spec(one(k8s_docs, "Deployment"))["containers"]:
        sources["k8s Deployment env"] = {e["name"] for e in c.get("env", [])}
    for name, svc in compose_gateways(compose).items():
        sources[f"compose {name}"] = set(compose_env(svc))
    for f in sorted(DEPLOY.glob("*.env")):
        sources[f"deploy/{f.name}"] = set(read_env_file(f))
    _, stages = dockerfile_stages(DEPLOY / "Dockerfile")
    sources["Dockerfile ENV (final stage)"] = {k for ins, rest in stages[-1] if ins == "ENV"
                                               for k in dockerfile_env(rest)}
    assert any(sources.values())
    for where, names in sources.items():
        unknown = sorted(names - settings)
        assert not unknown, f"{where}: not gateway settings (see realtime-events serve --help): {unknown}"


# ---------------------------------------------------------------- the real gateway


def probe_paths(k8s_docs, compose):
    """Every HTTP path something in deploy/ asks the gateway for."""
    paths = {}
    c = gateway_container(one(k8s_docs, "Deployment"))
    for name in ("readinessProbe", "livenessProbe", "startupProbe"):
        if name in c and "httpGet" in c[name]:
            paths.setdefault(c[name]["httpGet"]["path"], []).append(f"k8s {name}")
    ann = one(k8s_docs, "Deployment")["spec"]["template"]["metadata"].get("annotations", {})
    if "prometheus.io/path" in ann:
        paths.setdefault(ann["prometheus.io/path"], []).append("prometheus.io/path")
    for name, svc in compose_gateways(compose).items():
        for p in compose_healthcheck_paths(svc):
            paths.setdefault(p, []).append(f"compose {name} healthcheck")
    for ins, rest in dockerfile_instructions(DEPLOY / "Dockerfile"):
        if ins == "HEALTHCHECK":
            for p in re.findall(r"GET (/\S*) HTTP", rest):
                paths.setdefault(p, []).append("Dockerfile HEALTHCHECK")
    kind, text = lb_config()
    if kind == "haproxy":
        for p in re.findall(r"http-check send .*?\buri (\S+)", text) + re.findall(r"option httpchk \S+ (/\S*)", text):
            paths.setdefault(p, []).append("haproxy check")
    return paths


def test_probe_paths_are_real_routes(k8s_docs, compose, gateway_url):
    paths = probe_paths(k8s_docs, compose)
    assert {"/healthz", "/readyz"} <= set(paths), paths
    for path, users in paths.items():
        status = http_status(gateway_url + path)
        # /readyz is 503 here (no Kafka): a real route that is not ready. 404 = a typo.
        assert status in (200, 503), f"{path} (used by {users}) answered {status}"
    assert http_status(gateway_url + "/healthz") == 200
    assert http_status(gateway_url + "/readyz") == 503  # no Kafka at 127.0.0.1:1
    assert http_status(gateway_url + "/metrics") == 200
    assert http_status(gateway_url + "/no-such-route") == 404  # the check itself can fail


def healthcheck_command(stage):
    for ins, rest in stage:
        if ins == "HEALTHCHECK":
            m = re.search(r"CMD\s+(\[.*\])\s*$", rest)
            assert m, f"HEALTHCHECK must use the exec form: {rest}"
            return exec_form(m.group(1))
    pytest.fail("the final stage has no HEALTHCHECK")


def test_dockerfile_healthcheck_command_works(gateway_url):
    """Runs the image's HEALTHCHECK command (bash /dev/tcp) against a real gateway:
    0 when it answers, non-zero when nothing listens."""
    _, stages = dockerfile_stages(DEPLOY / "Dockerfile")
    cmd = healthcheck_command(stages[-1])
    port = gateway_url.rsplit(":", 1)[1]
    ok = subprocess.run(cmd, env=base_env(PORT=port), capture_output=True, text=True, timeout=10)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(cmd, env=base_env(PORT="1"), capture_output=True, text=True, timeout=10)
    assert bad.returncode != 0


def overrides_for_test():
    # Loopback, any free port, a Kafka that is not there: the gateway still loads
    # every setting, listens, and answers /healthz.
    return {"PORT": "0", "BIND_ADDRESS": "127.0.0.1", "KAFKA_BOOTSTRAP_SERVER": "127.0.0.1:1", "DRAIN_TIMEOUT": "1"}


def test_k8s_placeholder_secrets_are_refused(k8s_docs, start_gateway):
    """The shipped Secret holds placeholders on purpose invalid: the gateway must
    refuse to start with them and name each one."""
    cm, secret = one(k8s_docs, "ConfigMap"), one(k8s_docs, "Secret")
    env = base_env(**{**cm["data"], **secret["stringData"], **overrides_for_test()})
    gw = start_gateway(env)
    rc = gw.wait_exit()
    err = "\n".join(gw.stderr_lines)
    assert rc != 0, "the gateway started with the placeholder secrets"
    for name in ("JWT_SECRET", "ADMIN_TOKEN", "KAFKA_SCHEMA_REGISTRY_USER"):
        assert name in err, f"{name} placeholder not reported:\n{err}"
    for value in set(secret["stringData"].values()):
        assert value not in err, "a secret value was shown"


def test_k8s_configmap_loads_with_real_secrets(k8s_docs, start_gateway):
    """ConfigMap + Secret (placeholders replaced by valid values) pass the gateway's
    own configuration checks: it starts and listens."""
    cm, secret = one(k8s_docs, "ConfigMap"), one(k8s_docs, "Secret")
    valid = {"KAFKA_SASL_PASSWORD": "sasl-secret", "KAFKA_SCHEMA_REGISTRY_USER": "key:secret",
             "JWT_SECRET": "x" * 48, "ADMIN_TOKEN": "a" * 24}
    assert set(valid) == set(secret["stringData"]), "new Secret key: give it a valid test value here"
    gw = start_gateway(base_env(**{**cm["data"], **valid, **overrides_for_test()}))
    gw.wait_listening()


def test_compose_env_file_loads(compose, start_gateway):
    """Each compose gateway's environment passes the gateway's configuration checks."""
    for name, svc in compose_gateways(compose).items():
        env = compose_env(svc)
        gw = start_gateway(base_env(**{**env, **overrides_for_test()}))
        gw.wait_listening()
        gw.stop()


# ---------------------------------------------------------------- Docker Compose


def test_compose_services(compose):
    services = compose["services"]
    kafka = [s for s in services.values() if str(s.get("image", "")).startswith("apache/kafka:")]
    assert kafka, "an apache/kafka service"
    registry = [n for n, s in services.items() if str(s.get("image", "")).startswith("confluentinc/cp-schema-registry:")]
    assert registry, "a confluentinc/cp-schema-registry service"
    assert len(compose_gateways(compose)) >= 2, "two gateway instances built from deploy/Dockerfile"
    assert not [n for n in services if "zookeeper" in n], "KRaft: no ZooKeeper"


def test_compose_kafka_is_kraft(compose):
    services = compose["services"]
    (name, kafka), = [(n, s) for n, s in services.items()
                      if str(s.get("image", "")).startswith("apache/kafka:") and "environment" in s]
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in env["KAFKA_LISTENERS"]
    assert env.get("KAFKA_CONTROLLER_QUORUM_VOTERS") or env.get("KAFKA_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS")
    assert "healthcheck" in kafka


def test_compose_gateways_point_at_the_stack(compose):
    services = compose["services"]
    kafka_name = next(n for n, s in services.items()
                      if str(s.get("image", "")).startswith("apache/kafka:") and "environment" in s)
    advertised = services[kafka_name]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    registry_name = next(n for n, s in services.items()
                         if str(s.get("image", "")).startswith("confluentinc/cp-schema-registry:"))
    registry_listeners = services[registry_name]["environment"]["SCHEMA_REGISTRY_LISTENERS"]
    for name, svc in compose_gateways(compose).items():
        env = compose_env(svc)
        bootstrap = env["KAFKA_BOOTSTRAP_SERVER"]
        assert bootstrap == f"{kafka_name}:9092" and f"//{bootstrap}" in advertised, (bootstrap, advertised)
        url = env["KAFKA_SCHEMA_REGISTRY_URL"]
        m = re.fullmatch(r"http://([^:/]+):(\d+)/?", url)
        assert m and m.group(1) == registry_name and f":{m.group(2)}" in registry_listeners, url
        # 0.0.0.0 in a container: AUTH_MODE must be chosen explicitly.
        assert env.get("AUTH_MODE") in ("jwt", "allowlist", "none"), f"{name}: AUTH_MODE"
        assert "healthcheck" in svc or "HEALTHCHECK" in (DEPLOY / "Dockerfile").read_text()
        assert "ports" not in svc, f"{name}: clients go through the load balancer only"


def test_compose_stop_grace_exceeds_drain(compose):
    for name, svc in compose_gateways(compose).items():
        drain = int(compose_env(svc).get("DRAIN_TIMEOUT", DEFAULT_DRAIN_TIMEOUT))
        assert "stop_grace_period" in svc, f"{name}: the default 10 s is not above DRAIN_TIMEOUT"
        grace = go_duration_seconds(svc["stop_grace_period"])
        assert grace > drain, f"{name}: stop_grace_period {grace} s <= DRAIN_TIMEOUT {drain} s"
        assert svc.get("stop_signal", "SIGTERM") == "SIGTERM"


def test_compose_load_balancer(compose):
    services = compose["services"]
    lbs = {n: s for n, s in services.items()
           if str(s.get("image", "")).split(":")[0] in ("haproxy", "nginx", "library/haproxy", "library/nginx")}
    assert len(lbs) == 1, "one load balancer service (haproxy or nginx)"
    (name, lb), = lbs.items()
    assert any(str(p).split(":")[-2:] == ["5000", "5000"] or str(p) == "5000:5000" for p in lb.get("ports", [])), \
        lb.get("ports")
    kind, _ = lb_config()
    mounts = [str(v).split(":")[0] for v in lb.get("volumes", [])]
    assert any((DEPLOY / m).resolve() == (DEPLOY / ("haproxy.cfg" if kind == "haproxy" else "nginx.conf")).resolve()
               for m in mounts), mounts


def test_load_balancer_config(compose):
    kind, text = lb_config()
    gateways = set(compose_gateways(compose))
    ping = max(int(compose_env(s).get("PING_INTERVAL", 20)) for s in compose_gateways(compose).values())
    if kind == "haproxy":
        sections = haproxy_sections(text)
        defaults = next(v for k, v in sections.items() if k.startswith("defaults"))
        backend = next(v for k, v in sections.items() if k.startswith("backend"))
        # HTTP mode: HAProxy forwards the Upgrade/Connection headers and switches
        # to a tunnel on 101 (tcp mode would hide /readyz checks and headers).
        assert "mode http" in defaults + backend
        assert not any(line.startswith("mode tcp") for lines in sections.values() for line in lines)
        tunnel = [haproxy_duration_seconds(l.split()[-1]) for l in defaults + backend if l.startswith("timeout tunnel")]
        assert tunnel and tunnel[0] > 3 * ping, "timeout tunnel must outlast the heartbeats (3 x PING_INTERVAL)"
        assert "option httpchk" in backend
        assert any(re.search(r"http-check send .*\buri /readyz\b", l) for l in backend), backend
        assert "http-check expect status 200" in backend
        servers = [l.split()[2].rsplit(":", 1)[0] for l in backend if l.startswith("server ")]
        assert set(servers) == gateways, (servers, gateways)
    else:  # nginx
        flat = " ".join(text.split())
        assert "proxy_http_version 1.1" in flat
        assert re.search(r"proxy_set_header Upgrade \$http_upgrade", flat)
        assert re.search(r"proxy_set_header Connection", flat)
        m = re.search(r"proxy_read_timeout (\d+)(s|m|h)?", flat)
        assert m and int(m.group(1)) * {"s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)] > 3 * ping


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_stages():
    args, stages = dockerfile_stages(DEPLOY / "Dockerfile")
    assert len(stages) >= 2, "multi-stage: a build stage and a runtime stage"
    for st in stages:
        base = stage_base(st[0][1], args)
        assert re.fullmatch(r"debian:(12|bookworm)(-slim|-\d+-slim|-\d+)?(@sha256:[0-9a-f]{64})?", base), base
    build, final = stages[0], stages[-1]
    runs = " ".join(rest for ins, rest in build if ins == "RUN")
    assert re.search(r"(^|[ ;&/])scripts/setup\b", runs), "the build stage runs scripts/setup"
    assert re.search(r"cmake --build \S+ --target realtime-events", runs)
    # The flag given to scripts/setup is one it knows.
    flags = re.findall(r"scripts/setup\s+(--[\w-]+)", runs)
    setup = (REPO / "scripts" / "setup").read_text()
    for f in flags:
        assert f'"{f}"' in setup, f"scripts/setup has no {f} mode"
    users = [rest for ins, rest in final if ins == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the final stage runs as non-root"
    assert users[-1].split(":")[0] == "10001"
    final_text = {ins: rest for ins, rest in final}
    assert final_text.get("EXPOSE") == "5000"
    assert final_text.get("STOPSIGNAL") == "SIGTERM"
    assert exec_form(final_text["ENTRYPOINT"]) == ["realtime-events"]
    assert exec_form(final_text["CMD"]) == ["serve"]
    env = {k: v for ins, rest in final if ins == "ENV" for k, v in dockerfile_env(rest).items()}
    assert env.get("BIND_ADDRESS") == "0.0.0.0"
    assert "/healthz" in final_text.get("HEALTHCHECK", "")
    # No compiler in the runtime image.
    final_runs = " ".join(rest for ins, rest in final if ins == "RUN")
    assert not re.search(r"\b(build-essential|g\+\+|cmake|-dev)\b", final_runs)


def test_dockerfile_copies_every_build_input():
    """The build stage copies what CMake reads: a file embedded into the binary
    (rte_embed) that is not copied would be built in empty."""
    _, stages = dockerfile_stages(DEPLOY / "Dockerfile")
    copied = []
    for ins, rest in stages[0]:
        if ins == "COPY" and "--from" not in rest:
            words = rest.split()
            copied += [w.rstrip("/") for w in words[:-1] if not w.startswith("--")]
    for src in copied:
        assert (REPO / src).exists(), f"COPY {src}: no such path in the repository"
    cmake = (REPO / "CMakeLists.txt").read_text()
    inputs = re.findall(r"rte_embed\(\s*(\S+)", cmake) + re.findall(r"\$\{CMAKE_CURRENT_SOURCE_DIR\}/(web/[\w./-]+)", cmake)
    inputs += ["CMakeLists.txt", "src/app/main.cc", "tests/CMakeLists.txt"]
    inputs += re.findall(r"-P \$\{CMAKE_CURRENT_SOURCE_DIR\}/(cmake/[\w./-]+)", cmake)
    for f in inputs:
        assert any(f == c or f.startswith(c + "/") for c in copied), f"{f} is not copied into the build stage"


def test_dockerfile_runtime_packages_cover_the_binary(binary):
    """Every shared library `ldd realtime-events` lists comes from a package the
    runtime stage installs, from one of their dependencies, or from Debian's base."""
    _, stages = dockerfile_stages(DEPLOY / "Dockerfile")
    runs = " ".join(rest for ins, rest in stages[-1] if ins == "RUN")
    m = re.search(r"apt-get install (.*?)(?:>|&&|$)", runs)
    assert m, "the runtime stage installs its libraries with apt-get install"
    installed = {w for w in m.group(1).split() if not w.startswith("-")}
    base = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g"}  # in debian:12-slim
    allowed = set(installed) | base
    for pkg in installed:  # one level of Depends is enough for librdkafka1's lz4/zstd/sasl2
        out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", pkg], capture_output=True, text=True)
        assert out.returncode == 0, f"{pkg} is not a Debian package installed here: {out.stderr}"
        allowed |= {d.strip().split()[0].split(":")[0] for d in out.stdout.replace("|", ",").split(",") if d.strip()}
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"=>\s+(/\S+)", ldd)
    assert libs
    for lib in libs:
        out = subprocess.run(["dpkg-query", "-S", lib], capture_output=True, text=True)
        if out.returncode != 0:  # /lib vs /usr/lib (merged /usr)
            alt = lib.replace("/lib/", "/usr/lib/", 1) if not lib.startswith("/usr/") else lib.replace("/usr", "", 1)
            out = subprocess.run(["dpkg-query", "-S", alt], capture_output=True, text=True)
        assert out.returncode == 0, f"no package owns {lib}"
        pkg = out.stdout.split(":")[0].strip()
        if re.fullmatch(r"lib(asan|ubsan|lsan|tsan)\d+", pkg):
            continue  # a sanitizer build's runtime, never in a product image
        assert pkg in allowed, f"{lib} comes from {pkg}, which the runtime stage does not install"


def test_dockerignore():
    ignore = DEPLOY / "Dockerfile.dockerignore"
    assert ignore.is_file()
    lines = {l.strip() for l in ignore.read_text().splitlines() if l.strip() and not l.startswith("#")}
    for must in (".git", ".venv", "build*/", "**/node_modules", ".env"):
        assert must in lines, f"{ignore.name} should exclude {must}"
