"""The test API server answers like the recorded kube-apiserver v1.36.2, for the same requests.

The server holds the recorded cluster's objects (rebuilt from the recorded list bodies); each
request of tests/data/k8s-api-recorded/INDEX.tsv is replayed with the same credentials and Accept
header, and status, content type and body shape (keys and value types, not values) must match.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.kubeapi import CRD, Grant, KubeAPIServer, PrinterColumn
from tests.kubeapi.recorded import Recording, index, load, objects, shape

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
KUBECTL_TABLE = f"{TABLE},application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
GATEWAY_CRD = CRD(
    "gateway.apiconnect.ibm.com",
    "v1beta1",
    "GatewayCluster",
    "gatewayclusters",
    short_names=("gwc",),
    printer_columns=(
        PrinterColumn("Ready", ".status.phase"),
        PrinterColumn("Version", ".spec.version"),
        PrinterColumn("Age", ".metadata.creationTimestamp", "date"),
    ),
)
READONLY = Grant.read(
    [
        ("", "configmaps"),
        ("", "namespaces"),
        ("", "pods"),
        ("", "services"),
        ("apps", "deployments"),
        ("gateway.apiconnect.ibm.com", "gatewayclusters"),
    ],
    user="system:serviceaccount:realk8s-test:readonly",
)
TOKENS = {"admin": Grant.admin(), "readonly": READONLY}
ACCEPT = {
    "08": AGGREGATED,
    "09": AGGREGATED,
    "55": KUBECTL_TABLE,
    **{n: TABLE for n in ("50", "51", "52", "53", "54")},
}
CREDENTIALS = {n: "readonly" for n in ("30", "31", "32", "33", "34")} | {"35": "not-a-token", "36": None}


@pytest.fixture(scope="module")
def server() -> Iterator[KubeAPIServer]:
    with KubeAPIServer(
        objects(), TOKENS, crds=[GATEWAY_CRD], allow_anonymous=True, resource_version=245
    ) as running:
        yield running


def replay(server: KubeAPIServer, name: str) -> tuple[int, str, str]:
    method, target = index()[name]
    number = name[:2]
    token = CREDENTIALS.get(number, "admin")
    request = urllib.request.Request(server.url + target, method=method)
    request.add_header("Accept", ACCEPT.get(number, "application/json"))
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if method == "POST":
        request.data = json.dumps(load(number).json() if number == "60" else {}).encode()
        request.add_header("Content-Type", "application/json")
    context = ssl.create_default_context(cafile=server.ca_file)
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def _compare(recorded: Recording, status: int, content_type: str, body: str) -> Any:
    assert (status, content_type) == (recorded.status, recorded.content_type)
    if not recorded.content_type.startswith("application/json"):
        assert body == recorded.body
        return None
    ours = json.loads(body)
    return ours


EXACT = [
    "01",
    "02",
    "06",
    "07",
    "10",
    "11",
    "12",
    "13",
    "14",
    "15",
    "16",
    "17",
    "18",
    "20",
    "21",
    "30",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "40",
    "41",
    "42",
    "43",
    "44",
    "45",
    "50",
    "51",
    "52",
    "53",
    "54",
    "55",
]


@pytest.mark.parametrize("number", EXACT)
def test_same_status_content_type_and_shape(server: KubeAPIServer, number: str) -> None:
    recorded = load(number)
    ours = _compare(recorded, *replay(server, recorded.name))
    if ours is not None:
        assert shape(ours) == shape(recorded.json())
        if ours.get("kind") == "Status":
            assert (ours["message"], ours["reason"], ours.get("details")) == (
                recorded.json()["message"],
                recorded.json()["reason"],
                recorded.json().get("details"),
            )


def test_same_continue_tokens_and_pages(server: KubeAPIServer) -> None:
    """Token format is the real one: the recorded page-2 request is answered with the recorded page."""
    for number in ("10", "11", "13", "14", "17"):
        recorded = load(number).json()
        ours = json.loads(replay(server, load(number).name)[2])
        assert ours["metadata"] == recorded["metadata"]
        assert [i["metadata"]["name"] for i in ours["items"]] == [
            i["metadata"]["name"] for i in recorded["items"]
        ]


def test_expired_continue_token_and_compacted_resource_version() -> None:
    with KubeAPIServer(objects(), TOKENS, crds=[GATEWAY_CRD], resource_version=245) as server:
        assert replay(server, load("22").name)[0] == 200
        server.expire_continue_tokens()
        for number in ("22", "23"):
            recorded = load(number)
            ours = _compare(recorded, *replay(server, recorded.name))
            assert ours == recorded.json()


def _resources(document: dict[str, Any], key: str) -> dict[str, Any]:
    return {entry[key]: entry for entry in document["resources"]}


@pytest.mark.parametrize("number", ["04", "05"])
def test_legacy_resource_lists_match_for_every_resource_both_serve(
    server: KubeAPIServer, number: str
) -> None:
    recorded = load(number)
    ours = _compare(recorded, *replay(server, recorded.name))
    theirs_by_name, ours_by_name = _resources(recorded.json(), "name"), _resources(ours, "name")
    assert set(ours) == set(recorded.json())
    common = set(ours_by_name) & set(theirs_by_name)
    assert {"configmaps", "pods", "secrets", "namespaces"} & common or {
        "deployments",
        "statefulsets",
    } & common
    for name in common:
        assert shape(ours_by_name[name]) == shape(theirs_by_name[name]), name


def test_group_list_entries_have_the_recorded_shape(server: KubeAPIServer) -> None:
    recorded = load("03")
    ours = _compare(recorded, *replay(server, recorded.name))
    theirs = {g["name"]: g for g in recorded.json()["groups"]}
    for group in ours["groups"]:
        assert shape(group) == shape(theirs[group["name"]])
    assert [g["name"] for g in ours["groups"]] == [
        g for g in theirs if g in {x["name"] for x in ours["groups"]}
    ]


@pytest.mark.parametrize("number", ["08", "09"])
def test_aggregated_discovery_matches_for_every_resource_both_serve(
    server: KubeAPIServer, number: str
) -> None:
    recorded = load(number)
    ours = _compare(recorded, *replay(server, recorded.name))
    assert {k: v for k, v in ours.items() if k != "items"} == {
        k: v for k, v in recorded.json().items() if k != "items"
    }
    theirs = {
        (g["metadata"].get("name", ""), v["version"], r["resource"]): r
        for g in recorded.json()["items"]
        for v in g["versions"]
        for r in v["resources"]
    }
    compared = 0
    for group in ours["items"]:
        for version in group["versions"]:
            assert set(version) == {"version", "resources", "freshness"}
            for resource in version["resources"]:
                key = (group["metadata"].get("name", ""), version["version"], resource["resource"])
                if key in theirs:
                    assert shape(resource) == shape(theirs[key]), key
                    compared += 1
    assert compared >= 5


@pytest.mark.parametrize("number", ["60", "61", "62"])
def test_writes_are_refused_and_recorded(number: str) -> None:
    with KubeAPIServer(objects(), TOKENS, crds=[GATEWAY_CRD]) as server:
        status, content_type, body = replay(server, load(number).name)
        assert (status, content_type, json.loads(body)["reason"]) == (
            405,
            "application/json",
            "MethodNotAllowed",
        )
        assert [(w.method, w.path) for w in server.writes] == [index()[load(number).name]]
        with pytest.raises(AssertionError, match="the client sent writes"):
            server.assert_read_only()
