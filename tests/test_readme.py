"""The README's examples run as written."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import ROOT


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_the_python_example_runs_and_prints_real_results(tmp_path) -> None:
    code = re.search(r"```python\n(.*?)```", _section("Python"), re.S)
    assert code, "the Python section has a ```python example"
    out = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        cwd=tmp_path,  # not the checkout: the installed package and its fact base
        env={"PATH": "/usr/bin:/bin", "KZRIGHTS_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert re.match(r"\d+ claims answer; the best:", lines[0])
    assert lines[1].startswith("- ") and "Tulesova" in lines[1] and "¶" in lines[1]  # a claim with its citation
    assert any(line.startswith("Zhanbolat Mamay - ") for line in lines)
    assert any(re.match(r"\d+ claims: \{'fpc-2021': \d+, 'nit-2021': \d+\}", line) for line in lines)
    assert "| # | Claim | Source | Date |" in lines  # the person's claims as a Markdown table
