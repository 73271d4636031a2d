"""Deterministic synthetic manifest corpus for the benchmark.

``python -m tests.perf.corpus --documents 10000 --out /tmp/corpus`` writes the
same files for the same seed and size: Deployments, StatefulSets, Services,
ConfigMaps, Secrets, OpenShift DeploymentConfigs and ImageStreams, API
Connect GatewayCluster and ManagementCluster CRs and Kong / API7 Helm values,
grouped 1-5 documents per file, with violations planted at a known rate
(``VIOLATION_RATE``) so the rules really fire.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from pathlib import Path

VIOLATION_RATE = 0.05
LABELS = "\n".join(f"    example.com/tier-{i}: value-{i}" for i in range(14))


def _env(rng: random.Random, count: int) -> str:
    lines = []
    for i in range(count):
        if rng.random() < 0.5:
            lines.append(f"        - name: SETTING_{i}\n          value: \"{rng.randint(1, 9999)}\"")
        else:
            lines.append(f"        - name: REF_{i}\n          valueFrom:\n            configMapKeyRef:\n"
                         f"              name: cfg-{i}\n              key: key-{i}")
    return "\n".join(lines)


def deployment(rng: random.Random, n: int, bad: bool) -> str:
    kind = rng.choice(["Deployment", "StatefulSet"])
    api = "apps/v1beta2" if bad else "apps/v1"
    secret = ("        - name: DB_PASSWORD\n          value: hunter2-" + str(n)) if bad else (
        "        - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef: "
        "{name: db, key: password}")
    return f"""apiVersion: {api}
kind: {kind}
metadata:
  name: app-{n}
  namespace: team-{n % 40}
  labels:
{LABELS}
  annotations:
    deployment.kubernetes.io/revision: "{rng.randint(1, 90)}"
    owner: platform-team-{n % 7}@example.com
spec:
  replicas: {rng.randint(1, 6)}
  selector:
    matchLabels:
      app: app-{n}
  template:
    metadata:
      labels:
        app: app-{n}
    spec:
      serviceAccountName: app-{n}
      containers:
      - name: app
        image: registry.example.com/team-{n % 40}/app-{n}:1.{rng.randint(0, 40)}.{rng.randint(0, 9)}
        ports:
        - containerPort: 8080
          name: http
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: "1", memory: 512Mi}}
        readinessProbe:
          httpGet: {{path: /healthz, port: http}}
          periodSeconds: 10
        env:
{_env(rng, 18)}
{secret}
      - name: sidecar
        image: registry.example.com/mesh/proxy:2.{rng.randint(0, 9)}.0
        args: ["--port", "15001", "--admin", "15000"]
"""


def service(rng: random.Random, n: int, bad: bool) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: svc-{n}
  namespace: team-{n % 40}
  labels:
{LABELS}
spec:
  type: ClusterIP
  selector:
    app: app-{n}
  ports:
  - name: http
    port: 80
    targetPort: 8080
  - name: metrics
    port: 9090
    targetPort: 9090
"""


def configmap(rng: random.Random, n: int, bad: bool) -> str:
    entries = "\n".join(f"  key-{i}: \"value {rng.randint(0, 10**6)} for setting {i}\""
                        for i in range(45))
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg-{n}
  namespace: team-{n % 40}
data:
{entries}
  application.yml: |
    server:
      port: 8080
    logging:
      level: info
"""


def secret(rng: random.Random, n: int, bad: bool) -> str:
    keys = "" if bad else "  DB_USER: dXNlcg==\n  DB_PASSWORD: cGFzc3dvcmQ=\n"
    name = "system-database" if n % 50 == 0 else f"secret-{n}"
    return f"""apiVersion: v1
kind: Secret
metadata:
  name: {name}
  namespace: team-{n % 40}
type: Opaque
data:
  URL: bXlzcWwyOi8vcm9vdDpwd0BzeXN0ZW0tbXlzcWwvc3lzdGVt
{keys}"""


def deploymentconfig(rng: random.Random, n: int, bad: bool) -> str:
    user = ("          - name: MYSQL_USER\n            value: mysql" if bad else
            "          - name: MYSQL_USER\n            valueFrom:\n              secretKeyRef: "
            "{name: system-database, key: DB_USER}")
    return f"""apiVersion: apps.openshift.io/v1
kind: DeploymentConfig
metadata:
  name: {"system-mysql" if n % 3 == 0 else f"dc-{n}"}
  namespace: 3scale-{n % 5}
spec:
  replicas: 1
  strategy:
    type: Recreate
  triggers:
  - type: ConfigChange
  template:
    metadata:
      labels:
        deploymentConfig: dc-{n}
    spec:
      containers:
        - name: system-mysql
          image: registry.access.redhat.com/rhscl/mysql-57-rhel7:5.7
          env:
{user}
          - name: MYSQL_DATABASE
            value: system
"""


def imagestream(rng: random.Random, n: int, bad: bool) -> str:
    component = rng.choice(["system", "apicast", "backend", "zync"])
    latest = "2.4.0" if bad else "2.5.0"
    return f"""apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  name: amp-{component}
  namespace: 3scale-{n % 5}
spec:
  tags:
  - name: 2.5.0
    from: {{kind: DockerImage, name: registry.access.redhat.com/3scale-amp25/{component}}}
  - name: latest
    from: {{kind: ImageStreamTag, name: amp-{component}:{latest}}}
"""


def gateway(rng: random.Random, n: int, bad: bool) -> str:
    template = "\n  template:\n  - name: datapower\n    replicaCount: 2" if bad else ""
    return f"""apiVersion: gateway.apiconnect.ibm.com/v1beta1
kind: GatewayCluster
metadata:
  name: gw-{n}
  namespace: apic-{n % 9}
spec:
  version: 10.0.8.0
  profile: n3xc4.m8
  license:
    accept: {"false" if bad else "true"}
    use: production
    license: L-DZZQ-MGVN8V
    metric: PROCESSOR_VALUE_UNIT
  apicGatewayServiceTLS:
    secretName: gateway-service
  apicGatewayPeeringTLS:
    secretName: gateway-peering
  gatewayEndpoint:
    annotations:
      cert-manager.io/issuer: ingress-issuer
    hosts:
    - name: rgw-{n}.apic.example.com
      secretName: gw-endpoint-{n}
  lifecycle:
    preStop:
      sleep: {{seconds: 20}}
  terminationGracePeriodSeconds: 60{template}
"""


def management(rng: random.Random, n: int, bad: bool) -> str:
    return f"""apiVersion: management.apiconnect.ibm.com/v1beta1
kind: ManagementCluster
metadata:
  name: mgmt-{n}
  namespace: apic-{n % 9}
  annotations:
    apiconnect-operator/backups-not-configured: "true"
spec:
  version: {"10.0.5.3" if bad else "10.0.8.0"}
  profile: n1xc4.m16
  license:
    accept: true
    use: production
    license: L-DZZQ-MGVN8V
  portal:
    admin:
      secretName: portal-admin-client
  analytics:
    client:
      secretName: analytics-client-client
"""


def kong_values(rng: random.Random, n: int, bad: bool) -> str:
    database = "postgres" if bad else '"off"'
    return f"""image:
  repository: kong/kong-gateway
  tag: "3.5"
env:
  prefix: /kong_prefix/
  database: {database}
  role: data_plane
  cluster_control_plane: cp-{n % 5}.kong.svc.cluster.local:8005
  cluster_cert: /etc/secrets/kong-cluster-cert/tls.crt
  cluster_cert_key: /etc/secrets/kong-cluster-cert/tls.key
  lua_ssl_trusted_certificate: /etc/secrets/kong-cluster-cert/tls.crt
admin:
  enabled: false
secretVolumes:
- kong-cluster-cert
ingressController:
  enabled: false
replicaCount: {rng.randint(2, 6)}
"""


GENERATORS: list[tuple[Callable[[random.Random, int, bool], str], int]] = [
    (deployment, 30), (service, 20), (configmap, 15), (secret, 10), (deploymentconfig, 8),
    (imagestream, 5), (gateway, 5), (management, 2), (kong_values, 5),
]


def generate(out: Path, documents: int, seed: int = 20261121) -> tuple[int, int]:
    """Write the corpus; return (files, bytes)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    population = [gen for gen, weight in GENERATORS for _ in range(weight)]
    files = total = 0
    n = 0
    while n < documents:
        gen = rng.choice(population)
        count = 1 if gen is kong_values else min(rng.randint(1, 5), documents - n)
        docs = []
        for _ in range(count):
            docs.append(gen(rng, n, rng.random() < VIOLATION_RATE))
            n += 1
        text = "---\n".join(docs)
        path = out / f"team-{files % 40:02d}" / f"m{files:05d}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, "utf-8")
        files += 1
        total += len(text.encode())
    return files, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--out", type=Path, required=True)
    ns = parser.parse_args()
    files, size = generate(ns.out, ns.documents, ns.seed)
    print(f"{ns.documents} documents, {files} files, {size / 1e6:.1f} MB in {ns.out}")


if __name__ == "__main__":
    main()
