"""Fixtures of the data-layer tests: an isolated cache and no network."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_data_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets an empty cache, no data root, and an archive URL that goes nowhere.

    The archive URL is a closed local port, so a download attempted by mistake fails at
    once instead of reaching the internet.
    """
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("SPARSETSC_CACHE", str(cache))
    monkeypatch.delenv("SPARSETSC_DATA", raising=False)
    monkeypatch.setenv("SPARSETSC_ARCHIVE_URL", "http://127.0.0.1:9/api/records")
    return cache
