"""Benchmark: the cluster reader against bare LIST calls on the same client.

    python -m tests.perf.bench_cluster [--objects 5000] [--namespaces 50]
                                       [--page-size 500] [--repeat 3] [--markdown]

The test API server (tests/kubeapi, real HTTPS) runs in a child process with
``--objects`` objects spread over ``--namespaces`` namespaces (GatewayCluster,
ManagementCluster, Pod, Secret, Deployment in equal shares), so that the
client's time and memory are measured alone. The wanted kinds are those of the
whole rule catalog (``wanted_kinds``): most are served with no objects, as on
a real cluster. Two scopes: all namespaces (one LIST per kind) and every
namespace named with ``--namespace`` (one LIST per namespaced kind and
namespace).

For each scope, in the same run and alternating, ``--repeat`` times:

- ``read_cluster``: discovery, paginated LISTs, Resources built, Secrets
  stripped (the whole reader);
- the bare LIST calls: the same paginated requests (same paths, ``limit``,
  ``continue``) through ``ApiClient.call_api`` of the same configuration,
  each page read and decoded with ``json.loads`` (the least a client must do
  to follow ``continue``), nothing else.

The ratio is the median of the reader over the median of the bare calls
(wall time); the client's CPU time (``time.process_time`` of this process:
the server runs in another) is reported too, since the wall time of both is
mostly waiting for the server.
Checked (exit 1 when not): every LIST request the server logged is one the
expected count allows, which is ceil(objects in the scope / page size), at
least 1, per (served kind, scope): requests grow with kinds, scopes and pages,
never with objects; the ratio is at most 3. Peak memory comes from
``tracemalloc`` around one more ``read_cluster``: peak, what stays (the
Resources handed to the engine) and the difference (transient: pages in
flight).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.engine.catalog import load_catalog
from checks.sources.live.discovery import Served, discover
from checks.sources.live.kube import ClusterOptions, connect, read_cluster, wanted_kinds
from checks.sources.live.transport import KubeHttp

TOKEN = "bench-admin"
#: The kinds make_objects creates (the server adds CRD objects of its own).
BENCH_KINDS = frozenset({"GatewayCluster", "ManagementCluster", "Pod", "Secret", "Deployment"})
RATIO_TARGET = 3.0


def make_objects(count: int, namespaces: int) -> list[dict[str, Any]]:
    """``count`` objects, kinds in equal shares, namespaces round-robin."""
    out: list[dict[str, Any]] = []
    for i in range(count):
        ns = f"ns-{i % namespaces:02d}"
        meta = {"name": f"obj-{i:05d}", "namespace": ns,
                "labels": {"app.kubernetes.io/name": "bench", "index": str(i)}}
        kind = i % 5
        if kind == 0:
            out.append({"apiVersion": "gateway.apiconnect.ibm.com/v1beta1",
                        "kind": "GatewayCluster", "metadata": meta,
                        "spec": {"version": "10.0.8.0", "replicaCount": 3,
                                 "license": {"accept": True, "use": "production"}},
                        "status": {"versions": {"reconciled": "10.0.8.0"}}})
        elif kind == 1:
            out.append({"apiVersion": "management.apiconnect.ibm.com/v1beta1",
                        "kind": "ManagementCluster", "metadata": meta,
                        "spec": {"version": "10.0.8.0",
                                 "databaseBackup": {"protocol": "objstore"}},
                        "status": {"phase": "Running",
                                   "versions": {"reconciled": "10.0.8.0"}}})
        elif kind == 2:
            out.append({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                        "spec": {"containers": [{"name": "gw", "image":
                                                 "icr.io/apic/datapower:10.6.0.3",
                                                 "env": [{"name": "A", "value": "b"}]}]},
                        "status": {"phase": "Running", "podIP": f"10.1.{i // 250}.{i % 250}"}})
        elif kind == 3:
            out.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta,
                        "data": {"username": "YWRtaW4=", "password": "c2VjcmV0LXZhbHVl"}})
        else:
            out.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                        "spec": {"replicas": 2, "template": {"spec": {"containers": [
                            {"name": "kong", "image": "kong/kong-gateway:3.9.0.1"}]}}}})
    return out


def serve(objects: int, namespaces: int, kubeconfig: str) -> None:
    """The child: serve, answer ``log``/``reset`` on stdin, stop at EOF."""
    from tests.kubeapi.auth import Grant
    from tests.kubeapi.server import KubeAPIServer

    with KubeAPIServer(make_objects(objects, namespaces), {TOKEN: Grant.admin()}) as server:
        server.write_kubeconfig(kubeconfig, TOKEN, context="bench")
        print("ready", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "log":
                time.sleep(0.2)  # the server logs a request after answering it
                print(json.dumps([[r.method, r.path, r.verb] for r in server.requests]),
                      flush=True)
            elif command == "reset":
                server.reset_log()
                print("ok", flush=True)
        server.assert_read_only()


class ServerProcess:
    def __init__(self, objects: int, namespaces: int, kubeconfig: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.perf.bench_cluster", "--serve", str(objects),
             str(namespaces), str(kubeconfig)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the test API server did not start")

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    def log(self) -> list[tuple[str, str, str]]:
        return [tuple(r) for r in json.loads(self.ask("log"))]  # type: ignore[misc]

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        if code != 0:
            raise RuntimeError("the test API server saw a write")


def bare_lists(options: ClusterOptions, served: Sequence[Served]) -> tuple[int, int]:
    """The same paginated LISTs as the reader, nothing else: (requests, largest page bytes)."""
    api, _ = connect(options)
    timeout = (options.connect_timeout, options.read_timeout)
    requests = largest = 0
    scopes: Sequence[str | None] = options.namespaces or (None,)
    for kind in served:
        for namespace in (scopes if kind.namespaced else (None,)):
            token = ""
            while True:
                query = [("limit", str(options.page_size))] + ([("continue", token)] if token
                                                                 else [])
                method, url, headers, _, _ = api.param_serialize(
                    "GET", kind.collection_path(namespace), query_params=query,
                    header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
                data = api.call_api(method, url, header_params=headers,
                                    _request_timeout=timeout).read()
                requests += 1
                largest = max(largest, len(data))
                token = json.loads(data).get("metadata", {}).get("continue") or ""
                if not token:
                    break
    return requests, largest


def expected_lists(objects: list[dict[str, Any]], served: Sequence[Served],
                   options: ClusterOptions) -> int:
    """ceil(objects in scope / page size), at least 1, per (served kind, scope)."""
    per_scope: Counter[tuple[str, str, str | None]] = Counter()
    for obj in objects:
        group = obj["apiVersion"].rpartition("/")[0]
        ns = obj["metadata"]["namespace"] if options.namespaces else None
        per_scope[(group, obj["kind"], ns)] += 1
    total = 0
    for kind in served:
        scopes: Sequence[str | None] = (options.namespaces if kind.namespaced and
                                        options.namespaces else (None,))
        for ns in scopes:
            count = per_scope[(kind.wanted.group, kind.wanted.kind, ns)]
            total += max(1, math.ceil(count / options.page_size))
    return total


@dataclass
class Figures:
    scope: str
    kinds: int
    lists: int
    expected: int
    reader_s: float
    bare_s: float
    reader_cpu: float
    bare_cpu: float
    peak_bytes: int
    retained_bytes: int
    largest_page: int
    objects_read: int

    @property
    def ratio(self) -> float:
        return self.reader_s / self.bare_s


def measure(server: ServerProcess, objects: list[dict[str, Any]], options: ClusterOptions,
            scope: str, repeat: int) -> Figures:
    wanted = wanted_kinds(load_catalog(None).rules)
    api, _ = connect(options)
    served = discover(KubeHttp(api, 10, 60, 0), wanted).served
    reader, bare, reader_cpu, bare_cpu = [], [], [], []
    largest = 0
    lists = 0
    read_count = 0
    for _ in range(repeat):
        server.ask("reset")
        started, cpu = time.perf_counter(), time.process_time()
        read, _ = read_cluster(options, wanted)
        reader.append(time.perf_counter() - started)
        reader_cpu.append(time.process_time() - cpu)
        lists = sum(1 for _, _, verb in server.log() if verb == "list")
        read_count = sum(1 for r in read.resources if r.kind in BENCH_KINDS)
        assert not read.unavailable or all("not" in u.reason for u in read.unavailable), \
            read.unavailable
        del read
        started, cpu = time.perf_counter(), time.process_time()
        _, largest = bare_lists(options, served)
        bare.append(time.perf_counter() - started)
        bare_cpu.append(time.process_time() - cpu)
    tracemalloc.start()
    read, _ = read_cluster(options, wanted)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del read
    return Figures(scope, len(served), lists, expected_lists(objects, served, options),
                   statistics.median(reader), statistics.median(bare),
                   statistics.median(reader_cpu), statistics.median(bare_cpu), peak, retained,
                   largest, read_count)


def run(objects: int, namespaces: int, page_size: int, repeat: int) -> list[Figures]:
    docs = make_objects(objects, namespaces)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        server = ServerProcess(objects, namespaces, kubeconfig)
        try:
            base = ClusterOptions(kubeconfig=str(kubeconfig), page_size=page_size)
            names = tuple(sorted({d["metadata"]["namespace"] for d in docs}))
            return [measure(server, docs, base, "all namespaces", repeat),
                    measure(server, docs, ClusterOptions(kubeconfig=str(kubeconfig),
                                                         page_size=page_size, namespaces=names),
                            f"{len(names)} namespaces named", repeat)]
        finally:
            server.close()


def markdown(figures: Sequence[Figures], objects: int, namespaces: int, page_size: int) -> str:
    mib = 1024 * 1024
    rows = ["| scope | kinds listed | LIST requests (expected) | read_cluster | bare LISTs | "
            "ratio | client CPU: reader / bare | peak memory | retained (Resources) | "
            "transient | largest page |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    rows += [f"| {f.scope} | {f.kinds} | {f.lists} ({f.expected}) | {f.reader_s:.2f} s | "
             f"{f.bare_s:.2f} s | {f.ratio:.2f}x | {f.reader_cpu:.2f} s / {f.bare_cpu:.2f} s | "
             f"{f.peak_bytes / mib:.1f} MiB | "
             f"{f.retained_bytes / mib:.1f} MiB | "
             f"{(f.peak_bytes - f.retained_bytes) / mib:.1f} MiB | "
             f"{f.largest_page / mib:.2f} MiB |" for f in figures]
    return (f"{objects} objects in {namespaces} namespaces, page size {page_size}:\n\n"
            + "\n".join(rows) + "\n")


def check(figures: Sequence[Figures], objects: int, ratio_target: float = RATIO_TARGET) -> list[str]:
    problems = []
    for f in figures:
        if f.lists != f.expected:
            problems.append(f"{f.scope}: {f.lists} LIST requests, expected {f.expected}")
        if f.objects_read != objects:
            problems.append(f"{f.scope}: read {f.objects_read} objects of {objects}")
        if f.ratio > ratio_target:
            problems.append(f"{f.scope}: read_cluster took {f.ratio:.2f}x the bare LIST calls")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--serve", nargs=3, metavar=("OBJECTS", "NAMESPACES", "KUBECONFIG"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(int(args.serve[0]), int(args.serve[1]), args.serve[2])
        return 0
    figures = run(args.objects, args.namespaces, args.page_size, args.repeat)
    print(markdown(figures, args.objects, args.namespaces, args.page_size))
    problems = check(figures, args.objects)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
