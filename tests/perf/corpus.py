"""Deterministic synthetic manifest corpus for the benchmark.

``python -m tests.perf.corpus --documents 10000 --out /tmp/corpus`` writes the
same files for the same seed and size: what repositories of manifests and
cluster exports hold (``GENERATORS``, with their weights; docs/performance.md
says how the mix was chosen): Deployments, StatefulSets with
volumeClaimTemplates (some exported from a cluster: managed fields, the
last-applied annotation, status), CronJobs, Services,
ConfigMaps (some with embedded YAML, JSON and scripts), Secrets (opaque, image
pull, TLS, large), CRDs with deep schemas, OpenShift DeploymentConfigs,
ImageStreams and Templates, API Connect CRs, the Helm values of every
supported chart, and from 5,000 documents one ``helm template`` file holding
a fifth of them. Files hold 1-5 documents; violations are planted at a known
rate (``VIOLATION_RATE``) so the rules really fire.
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
  databaseVolumeClaimTemplate:
    storageClassName: {"rook-ceph-block" if n % 2 else "gp3"}
    volumeSize: {rng.choice([50, 100, 200])}Gi
  microServiceSecurity: certManager
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


def _b64(rng: random.Random, size: int) -> str:
    """Base64-looking text of ``size`` characters (certificates, keystores)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(rng.choice(alphabet) for _ in range(size))


def _exported(rng: random.Random, n: int, kind: str) -> str:
    """What ``kubectl get -o yaml`` adds to metadata: server fields, managed
    fields and the last-applied annotation (an object as embedded JSON)."""
    applied = (f'{{"apiVersion":"apps/v1","kind":"{kind}","metadata":{{"annotations":{{}},'
               f'"name":"app-{n}","namespace":"team-{n % 40}"}},"spec":{{"replicas":2}}}}')
    return f"""    kubectl.kubernetes.io/last-applied-configuration: |
      {applied}
  creationTimestamp: "2026-0{1 + n % 9}-1{n % 10}T08:{n % 60:02d}:17Z"
  generation: {rng.randint(1, 30)}
  resourceVersion: "{rng.randint(10**6, 10**8)}"
  uid: 5f0c{n:08x}-2b1e-4c8e-9d3a-{rng.getrandbits(48):012x}
  managedFields:
  - apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata:
        f:annotations:
          .: {{}}
          f:kubectl.kubernetes.io/last-applied-configuration: {{}}
      f:spec:
        f:replicas: {{}}
        f:template:
          f:spec:
            f:containers:
              k:{{"name":"app"}}:
                .: {{}}
                f:image: {{}}
    manager: kubectl-client-side-apply
    operation: Update
    time: "2026-03-0{1 + n % 9}T10:00:00Z"
"""


def statefulset(rng: random.Random, n: int, bad: bool) -> str:
    """A StatefulSet as charts and cluster exports have it: volumeClaimTemplates,
    probes, a shell command, and (exported) server fields and status."""
    exported = rng.random() < 0.4
    meta = _exported(rng, n, "StatefulSet") if exported else ""
    status = (f"status:\n  availableReplicas: 3\n  currentRevision: db-{n}-6b8f\n"
              f"  observedGeneration: 4\n  readyReplicas: 3\n  replicas: 3\n") if exported else ""
    user = "postgres" if bad else "app"
    return f"""apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db-{n}
  namespace: team-{n % 40}
  labels:
    app.kubernetes.io/name: postgresql
    app.kubernetes.io/instance: db-{n}
    helm.sh/chart: postgresql-12.{n % 12}.{n % 5}
  annotations:
    meta.helm.sh/release-name: db-{n}
{meta}spec:
  serviceName: db-{n}-hl
  replicas: 3
  podManagementPolicy: OrderedReady
  updateStrategy:
    type: RollingUpdate
  selector:
    matchLabels:
      app.kubernetes.io/instance: db-{n}
  template:
    metadata:
      labels:
        app.kubernetes.io/instance: db-{n}
    spec:
      securityContext:
        fsGroup: 1001
      initContainers:
      - name: init-chmod
        image: docker.io/bitnami/os-shell:12-debian-12-r{n % 30}
        command: ["/bin/sh", "-ec", "mkdir -p /bitnami/postgresql/data && chmod 700 \\
          /bitnami/postgresql/data && find /bitnami -mindepth 1 -maxdepth 1 -not -name \\
          '*.conf' | xargs -r chown 1001:1001"]
      containers:
      - name: postgresql
        image: docker.io/bitnami/postgresql:15.{n % 8}.0-debian-12-r{n % 20}
        env:
        - name: POSTGRES_USER
          value: {user}
        - name: POSTGRES_PASSWORD
          valueFrom:
            secretKeyRef:
              name: db-{n}
              key: password
        - name: PGDATA
          value: /bitnami/postgresql/data
        ports:
        - name: tcp-postgresql
          containerPort: 5432
        livenessProbe:
          exec:
            command: ["/bin/sh", "-c", "exec pg_isready -U \\"{user}\\" -h 127.0.0.1 -p 5432"]
          initialDelaySeconds: 30
          periodSeconds: 10
        resources:
          requests: {{cpu: 250m, memory: 256Mi}}
        volumeMounts:
        - name: data
          mountPath: /bitnami/postgresql
  volumeClaimTemplates:
  - apiVersion: v1
    kind: PersistentVolumeClaim
    metadata:
      name: data
    spec:
      accessModes: ["ReadWriteOnce"]
      storageClassName: gp3
      resources:
        requests:
          storage: {rng.choice([8, 20, 50, 100])}Gi
{status}"""


def cronjob(rng: random.Random, n: int, bad: bool) -> str:
    api = "batch/v1beta1" if bad else "batch/v1"
    return f"""apiVersion: {api}
kind: CronJob
metadata:
  name: backup-{n}
  namespace: team-{n % 40}
spec:
  schedule: "{n % 60} 2 * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      backoffLimit: 2
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: backup
            image: registry.example.com/ops/pg-backup:2.{n % 7}.1
            args:
            - /bin/sh
            - -c
            - >-
              pg_dump -h db-{n} -U app app | gzip > /backup/app-$(date +%F).sql.gz
              && aws s3 cp /backup s3://backups-{n % 9}/ --recursive
            env:
            - name: PGPASSWORD
              valueFrom:
                secretKeyRef: {{name: db-{n}, key: password}}
            volumeMounts:
            - {{name: backup, mountPath: /backup}}
          volumes:
          - name: backup
            emptyDir: {{}}
"""


def pull_secret(rng: random.Random, n: int, bad: bool) -> str:
    """An image pull Secret (``oc create secret docker-registry``)."""
    import base64
    import json
    auth = base64.b64encode(f"robot${n % 17}:{_b64(rng, 32)}".encode()).decode()
    config = json.dumps({"auths": {"registry.example.com": {"auth": auth}}})
    return f"""apiVersion: v1
kind: Secret
metadata:
  name: pull-{n % 40}
  namespace: team-{n % 40}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {base64.b64encode(config.encode()).decode()}
"""


def tls_secret(rng: random.Random, n: int, bad: bool) -> str:
    """A cert-manager TLS Secret: a 2-3 KB certificate chain and a key."""
    return f"""apiVersion: v1
kind: Secret
metadata:
  name: tls-{n}
  namespace: team-{n % 40}
  annotations:
    cert-manager.io/certificate-name: tls-{n}
    cert-manager.io/issuer-kind: ClusterIssuer
    cert-manager.io/issuer-name: letsencrypt
type: kubernetes.io/tls
data:
  ca.crt: ""
  tls.crt: {_b64(rng, 2400 + rng.randint(0, 800))}
  tls.key: {_b64(rng, 1700)}
"""


def large_secret(rng: random.Random, n: int, bad: bool) -> str:
    """A Secret with a large value (a keystore, a CA bundle): 20-60 KB."""
    return f"""apiVersion: v1
kind: Secret
metadata:
  name: keystore-{n}
  namespace: team-{n % 40}
type: Opaque
data:
  keystore.p12: {_b64(rng, rng.randint(20_000, 60_000))}
  password: {_b64(rng, 16)}
"""


def _schema(rng: random.Random, depth: int, indent: int) -> str:
    pad = " " * indent
    if depth == 0:
        return (f"{pad}type: string\n{pad}description: Leaf setting, see the operator "
                f"documentation.\n")
    fields = []
    for i in range(2 if depth > 2 else 3):
        fields.append(f"{pad}  field{depth}x{i}:\n{pad}    description: Nested object "
                      f"{depth}.{i}\n{pad}    type: object\n{pad}    properties:\n"
                      + _schema(rng, depth - 1, indent + 6))
    return (f"{pad}type: object\n{pad}x-kubernetes-preserve-unknown-fields: true\n"
            f"{pad}properties:\n" + "".join(fields))


def crd(rng: random.Random, n: int, bad: bool) -> str:
    """A CustomResourceDefinition with a deep ``openAPIV3Schema`` (tens of KB)."""
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets{n}.example.com
  annotations:
    controller-gen.kubebuilder.io/version: v0.14.0
spec:
  group: example.com
  names:
    kind: Widget{n}
    listKind: Widget{n}List
    plural: widgets{n}
    singular: widget{n}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {{}}
    schema:
      openAPIV3Schema:
{_schema(rng, 6, 8)}"""


def configmap_embedded(rng: random.Random, n: int, bad: bool) -> str:
    """A ConfigMap holding application YAML and JSON as block scalars, with
    the words and shapes YAML 1.1 reads specially inside them."""
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config-{n}
  namespace: team-{n % 40}
data:
  application.yaml: |
    spring:
      profiles: prod
      datasource:
        url: jdbc:postgresql://db-{n}:5432/app
    feature:
      enabled: yes
      legacy: off
      ratio: .5
    hosts:
    - *.example.com
    templates:
      volumeClaimTemplate: default
  settings.json: |
    {{"timeout": 30, "retries": {rng.randint(1, 9)}, "tags": ["a", "b"], "debug": false,
     "endpoints": {{"primary": "https://api-{n}.example.com", "fallback": null}}}}
  entrypoint.sh: |
    #!/bin/sh
    set -e
    [ -f /config/app.env ] && . /config/app.env
    exec java $JAVA_OPTS -jar /app.jar --spring.config.location=/config/ "$@"
  LOG_LEVEL: info
  PORT: "8080"
"""


def openshift_template(rng: random.Random, n: int, bad: bool) -> str:
    """An OpenShift Template (``oc process``): parameters and objects."""
    image = "registry.access.redhat.com/rhscl/mysql-57-rhel7:5.7"
    return f"""apiVersion: template.openshift.io/v1
kind: Template
metadata:
  name: app-template-{n}
  annotations:
    description: Application with a database, from the team catalog
parameters:
- name: APP_NAME
  value: app-{n}
  required: true
- name: MYSQL_USER
  value: {"mysql" if bad else "app"}
- name: IMAGE_TAG
  value: "1.{n % 9}"
objects:
- apiVersion: apps.openshift.io/v1
  kind: DeploymentConfig
  metadata:
    name: ${{APP_NAME}}
  spec:
    replicas: 1
    template:
      metadata:
        labels: {{app: "${{APP_NAME}}"}}
      spec:
        containers:
        - name: mysql
          image: {image}
          env:
          - name: MYSQL_USER
            value: ${{MYSQL_USER}}
- apiVersion: v1
  kind: Service
  metadata:
    name: ${{APP_NAME}}
  spec:
    ports:
    - port: 3306
"""


def api7_values(rng: random.Random, n: int, bad: bool) -> str:
    tag = "v3.2.9" if bad else "v3.7.3"
    return f"""dashboard:
  image:
    repository: api7/api7-ee-3-integrated
    pullPolicy: IfNotPresent
    tag: "{tag}"
dp_manager:
  image:
    repository: api7/api7-ee-dp-manager
    tag: "v3.7.3"
developer_portal:
  image:
    repository: api7/api7-ee-developer-portal
    tag: "v3.7.3"
postgresql:
  builtin: true
replicaCount: {rng.randint(1, 3)}
"""


def api7_gateway_values(rng: random.Random, n: int, bad: bool) -> str:
    return f"""apisix:
  image:
    repository: api7/api7-ee-3-gateway
    tag: 3.7.3
  replicaCount: {rng.randint(2, 4)}
etcd:
  host:
  - https://api7ee3-dp-manager.api7-{n % 5}.svc.cluster.local:7943
  auth:
    tls:
      enabled: true
      existingSecret: dp-manager-tls-{n % 5}
      certFilename: tls.crt
      certKeyFilename: tls.key
"""


#: The mix, by documents (see docs/performance.md, "The corpus"): workloads and
#: their Services, ConfigMaps and Secrets as a cluster export or a repository
#: of manifests holds them, the products' CRs and Helm values, and a few large
#: objects (CRDs, big Secrets) that dominate bytes though not counts.
GENERATORS: list[tuple[Callable[[random.Random, int, bool], str], int]] = [
    (deployment, 20), (statefulset, 6), (cronjob, 4), (service, 15), (configmap, 8),
    (configmap_embedded, 6), (secret, 6), (pull_secret, 5), (tls_secret, 6), (large_secret, 1),
    (crd, 1), (deploymentconfig, 6), (openshift_template, 1), (imagestream, 4), (gateway, 4),
    (management, 2), (kong_values, 2), (api7_values, 1), (api7_gateway_values, 1),
]
#: Generators that write one values file each (a chart's values are a file).
VALUES = (kong_values, api7_values, api7_gateway_values)
#: Generators of documents of tens of KB (each alone in its file).
LARGE = (crd, large_secret)
#: Share of the documents rendered into one ``helm template`` file, at sizes
#: where that file holds thousands of documents.
HELM_TEMPLATE_SHARE = 0.2
HELM_TEMPLATE_FROM = 5_000


def _helm_template(rng: random.Random, first: int, count: int,
                   population: list[Callable[[random.Random, int, bool], str]]) -> str:
    """``helm template`` of an umbrella chart: one stream, ``# Source:`` comments."""
    rendered = [gen for gen in population if gen not in VALUES]
    parts = []
    for n in range(first, first + count):
        gen = rng.choice(rendered)
        parts.append(f"# Source: platform/charts/{gen.__name__}/templates/{gen.__name__}.yaml\n"
                     + gen(rng, n, rng.random() < VIOLATION_RATE))
    return "---\n" + "---\n".join(parts)


def generate(out: Path, documents: int, seed: int = 20261121) -> tuple[int, int]:
    """Write the corpus; return (files, bytes)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    population = [gen for gen, weight in GENERATORS for _ in range(weight)]
    files = total = 0
    n = 0
    in_stream = int(documents * HELM_TEMPLATE_SHARE) if documents >= HELM_TEMPLATE_FROM else 0
    if in_stream:
        text = _helm_template(rng, 0, in_stream, population)
        path = out / "rendered" / "helm-template.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, "utf-8")
        files, total, n = 1, len(text.encode()), in_stream
    while n < documents:
        gen = rng.choice(population)
        count = 1 if gen in VALUES or gen in LARGE or gen is openshift_template \
            else min(rng.randint(1, 5), documents - n)
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
