"""Shared fixtures: every test gets its own cache dir, so no test sees another's cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"
SHARED = ROOT.parent / "shared"
PARAGRAPHS = SHARED / "sources" / "paragraphs.jsonl"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("KZRIGHTS_CACHE_DIR", str(cache))
    monkeypatch.delenv("KZRIGHTS_FACTS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return cache


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A writable copy of the small fixture fact base."""
    dest = tmp_path / "facts"
    shutil.copytree(MINI, dest)
    return dest


@pytest.fixture
def run():
    """Run the CLI in-process: run(*args) -> click Result with .exit_code, .stdout, .stderr."""
    from kzrights.cli import app

    runner = CliRunner()

    def _run(*args: str, env: dict[str, str] | None = None):
        return runner.invoke(app, list(args), env=env)

    return _run


@pytest.fixture
def run_json(run):
    def _run(*args: str):
        result = run(*args)
        assert result.exit_code in (0, 1), result.stderr
        return result.exit_code, json.loads(result.stdout)

    return _run


def paragraphs() -> list[dict]:
    if not PARAGRAPHS.is_file():
        pytest.skip(f"../shared is absent ({PARAGRAPHS} not found): the reports' paragraphs are needed for this check")
    return [json.loads(line) for line in PARAGRAPHS.read_text(encoding="utf-8").splitlines() if line.strip()]
