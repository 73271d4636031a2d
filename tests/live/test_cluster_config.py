"""Cluster configuration (kubeconfig, KUBECONFIG, contexts) and what the
reader keeps of a Secret: tests that need no API server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml

from checks.sources.live.kube import ClusterConfigError, ClusterOptions, SecretValues, connect
from checks.sources.live.paging import origin_uri, strip_secret_values

TOKEN = "s3cr3t-t0ken-value"


def kubeconfig(path: Path, contexts: dict[str, str], current: str | None,
               server: str = "https://127.0.0.1:6443") -> Path:
    """A kubeconfig with one token user per context (context name -> token)."""
    doc: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": f"c-{n}", "cluster": {"server": server,
                                                     "insecure-skip-tls-verify": True}}
                     for n in contexts],
        "users": [{"name": f"u-{n}", "user": {"token": t}} for n, t in contexts.items()],
        "contexts": [{"name": n, "context": {"cluster": f"c-{n}", "user": f"u-{n}"}}
                     for n in contexts],
    }
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def _token(api: Any) -> str:
    return str(api.configuration.auth_settings()["BearerToken"]["value"])


def test_explicit_kubeconfig_uses_its_current_context(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kc", {"prod": "t-prod", "dev": "t-dev"}, "dev")
    api, context = connect(ClusterOptions(kubeconfig=str(path)))
    assert context == "dev" and _token(api) == "Bearer t-dev"


def test_context_option_selects_another_context(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kc", {"prod": "t-prod", "dev": "t-dev"}, "dev")
    api, context = connect(ClusterOptions(kubeconfig=str(path), context="prod"))
    assert context == "prod" and _token(api) == "Bearer t-prod"


def test_kubeconfig_env_with_several_files_is_merged(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = kubeconfig(tmp_path / "a", {"a": "t-a"}, None)
    second = kubeconfig(tmp_path / "b", {"b": "t-b"}, "b")
    monkeypatch.setenv("KUBECONFIG", f"{first}{os.pathsep}{second}")
    api, context = connect(ClusterOptions())
    assert context == "b" and _token(api) == "Bearer t-b"
    api, context = connect(ClusterOptions(context="a"))
    assert context == "a" and _token(api) == "Bearer t-a"


def test_home_kubeconfig_is_the_fallback(tmp_path: Path) -> None:
    home = tmp_path / "home" / ".kube"
    home.mkdir(parents=True)
    kubeconfig(home / "config", {"home": "t-home"}, "home")
    assert connect(ClusterOptions())[1] == "home"


def _error(options: ClusterOptions) -> str:
    with pytest.raises(ClusterConfigError) as caught:
        connect(options)
    message = str(caught.value)
    assert "\n" not in message and TOKEN not in message
    return message


def test_unknown_context_is_one_line(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kc", {"prod": TOKEN}, "prod")
    assert _error(ClusterOptions(kubeconfig=str(path), context="staging")) == \
        f"kubeconfig {path}: no context named 'staging'"


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    message = _error(ClusterOptions(kubeconfig=str(tmp_path / "absent")))
    assert message.startswith(f"kubeconfig {tmp_path / 'absent'}: ")


def test_broken_yaml_names_the_line_and_never_quotes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    path.write_text(f"users:\n- name: u\n  user: {{token: {TOKEN}\n: [\n")
    assert _error(ClusterOptions(kubeconfig=str(path))).startswith(f"kubeconfig {path}:")


@pytest.mark.parametrize("text", ["[]", "just text", "contexts: 3\n", "contexts: []\n",
                                  "current-context: x\ncontexts: [{name: x}]\n"])
def test_malformed_kubeconfig_structures_are_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "kc"
    path.write_text(text)
    assert _error(ClusterOptions(kubeconfig=str(path))).startswith(f"kubeconfig {path}: ")


def test_no_configuration_anywhere(tmp_path: Path) -> None:
    assert _error(ClusterOptions()).startswith("no cluster configuration:")


def test_context_without_kubeconfig_in_a_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    assert _error(ClusterOptions(context="x")).startswith("--context needs a kubeconfig")


def test_secret_values_are_replaced_keys_kept() -> None:
    item: dict[str, Any] = {
        "kind": "Secret", "metadata": {"name": "db", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration":
                '{"data":{"password":"c2VjcmV0"}}', "team": "x"}},
        "data": {"password": "c2VjcmV0", "user": "YWRtaW4="}, "stringData": {"url": "pg://"}}
    strip_secret_values(item)
    assert item["data"] == {"password": "", "user": ""}
    assert item["stringData"] == {"url": ""}
    assert item["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": "", "team": "x"}


def test_secret_values_repr_shows_keys_only() -> None:
    values = SecretValues({"password": b"hunter2"})
    assert values["password"] == b"hunter2"
    assert "hunter2" not in repr(values) and "password" in repr(values)


def test_origin_uris() -> None:
    assert origin_uri("prod", "apic", "GatewayCluster", "gw", "42") == \
        "cluster://prod/apic/GatewayCluster/gw?resourceVersion=42"
    assert origin_uri("prod", None, "Namespace", "apic", None) == "cluster://prod/Namespace/apic"


@pytest.mark.parametrize(("environment", "proxy"), [  # proxy: the one requests go through
    ({"HTTPS_PROXY": "http://proxy.corp:3128"}, "http://proxy.corp:3128"),
    ({"https_proxy": "http://proxy.corp:3128", "NO_PROXY": "127.0.0.1,.svc"}, None),
    ({"https_proxy": "http://proxy.corp:3128", "no_proxy": "*"}, None),
    ({"HTTP_PROXY": "http://proxy.corp:3128"}, None),  # for http:// servers only
    ({}, None),
])
def test_proxy_from_the_environment_as_kubectl_honours_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str],
        proxy: str | None) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    path = kubeconfig(tmp_path / "config", {"lab": TOKEN}, "lab")
    client, _ = connect(ClusterOptions(kubeconfig=str(path)))
    pool = client.rest_client.pool_manager
    assert (str(pool.proxy) if isinstance(pool, urllib3.ProxyManager) else None) == proxy


def test_the_kubeconfigs_proxy_url_comes_first(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy:3128")
    path = kubeconfig(tmp_path / "config", {"lab": TOKEN}, "lab")
    doc = yaml.safe_load(path.read_text())
    doc["clusters"][0]["cluster"]["proxy-url"] = "http://kubeconfig-proxy:8080"
    path.write_text(yaml.safe_dump(doc))
    client, _ = connect(ClusterOptions(kubeconfig=str(path)))
    assert str(client.rest_client.pool_manager.proxy) == "http://kubeconfig-proxy:8080"
