"""The base image of `make docker-check` gets the host's way to PyPI, never paths of the host's disk."""

from __future__ import annotations

import pytest

from tests.docker.pipconf import IMAGE_CA, image_pip_conf


def test_only_network_settings_reach_the_image(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    host = {
        "cert": "/somewhere/on/the/host/bundle.pem",
        "find-links": "/srv/wheels",
        "constraint": "/etc/xdg/pip/constraints.txt",
        "extra-index-url": "file:///srv/pypi/simple https://mirror.example/simple",
        "index-url": "https://pypi.example/simple",
        "default-timeout": "180",
    }
    conf = image_pip_conf(host)
    assert conf.splitlines()[:2] == ["[global]", f"cert = {IMAGE_CA}"]
    assert "extra-index-url = https://mirror.example/simple" in conf
    assert "index-url = https://pypi.example/simple" in conf
    assert "default-timeout = 180" in conf
    assert "/srv" not in conf and "constraint" not in conf and "/somewhere" not in conf


def test_local_only_indexes_are_dropped_entirely() -> None:
    conf = image_pip_conf({"extra-index-url": "file:///srv/pypi/simple"})
    assert "index-url" not in conf
