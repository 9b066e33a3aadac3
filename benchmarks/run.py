#!/usr/bin/env python3
"""Whole-process timings of kzrights against `python -c "import typer"`, as ratios.

Every query is a fresh process, so start-up is the product's speed. Commands are run
interleaved, round after round, and compared by their medians in the same run, so the
ratios hold on a noisy machine.

usage: python benchmarks/run.py [--rounds N] [--sizes 1000,10000,100000] [--check]
Run it with the interpreter of the environment kzrights is installed in (e.g. .venv/bin/python).
  --sizes   synthetic fact-base sizes to generate and measure (0 to skip)
  --check   exit 1 if a ratio misses its target
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
# The console script users run (python -m adds runpy's start-up), if installed beside PY.
_SCRIPT = Path(PY).parent / "kzrights"
KZ = [str(_SCRIPT)] if _SCRIPT.is_file() else [PY, "-m", "kzrights"]


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time (s) and peak memory (KiB) of one whole process."""
    start = time.perf_counter()
    # cwd elsewhere than the checkout, so `python -m kzrights` runs the installed package
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir())
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss


def medians(cases: dict[str, tuple[list[str], dict[str, str]]], rounds: int) -> dict[str, tuple[float, int]]:
    times: dict[str, list[float]] = {k: [] for k in cases}
    peak: dict[str, int] = dict.fromkeys(cases, 0)
    for cmd, env in cases.values():  # warm-up: caches built, files in the page cache
        run_once(cmd, env)
    for _ in range(rounds):
        for name, (cmd, env) in cases.items():
            t, rss = run_once(cmd, env)
            times[name].append(t)
            peak[name] = max(peak[name], rss)
    return {k: (statistics.median(v), peak[k]) for k, v in times.items()}


def line(name: str, t: float, ref: float, target: float | None, rss: int | None = None) -> tuple[str, bool]:
    ratio = t / ref
    ok = target is None or ratio <= target
    goal = f"≤ {target:.1f}×" if target else ""
    mem = f"{rss / 1024:7.1f} MB" if rss else ""
    return f"  {name:<46} {t * 1000:7.1f} ms  {ratio:5.2f}×  {goal:<7} {mem}  {'ok' if ok else 'MISS'}", ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip() and int(s)]
    work = Path(tempfile.mkdtemp(prefix="kzbench-"))
    env = {**os.environ, "KZRIGHTS_CACHE_DIR": str(work / "cache"), "COLUMNS": "100"}
    env.pop("KZRIGHTS_FACTS", None)
    # Let Python cache bytecode, as on a user's machine (an editable install would otherwise
    # recompile kzrights on every run while the reference's typer comes precompiled).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    all_ok = True
    try:
        ref_cmd = [PY, "-c", "import typer"]
        cases = {
            "reference: python -c 'import typer'": (ref_cmd, env),
            "search Q --json": ([*KZ, "search", "Tulesova", "--json"], env),
            "search Q (table, COLUMNS=100)": ([*KZ, "search", "Tulesova"], env),
            "search 'party registration' --json": ([*KZ, "search", "party registration", "--json"], env),
            "search typo 'Nazarbaeyv' --json (fuzzy)": ([*KZ, "search", "Nazarbaeyv", "--json"], env),
            "person NAME --json": ([*KZ, "person", "Mamai", "--json"], env),
            "show ID": ([*KZ, "show", "nit-cs-08-tulesova-sentence"], env),
        }
        targets = {
            "search Q --json": 1.3,
            "search Q (table, COLUMNS=100)": 1.8,
            "search 'party registration' --json": 1.3,
            "person NAME --json": 1.3,
            "show ID": 1.3,
        }
        print(f"real fact base, {args.rounds} rounds, medians of whole-process runs ({sys.version.split()[0]})")
        res = medians(cases, args.rounds)
        ref = res["reference: python -c 'import typer'"][0]
        for name, (t, rss) in res.items():
            text, ok = line(name, t, ref, targets.get(name), rss)
            all_ok &= ok
            print(text)

        # Cache rebuild after an edit vs a warm run (real fact base, copied so it can be touched).
        facts = work / "facts"
        shutil.copytree(ROOT / "facts", facts)
        fenv = {**env, "KZRIGHTS_FACTS": str(facts)}
        search = [*KZ, "search", "Tulesova", "--json"]
        run_once(search, fenv)
        cold, warm = [], []
        victim = next((facts / "claims").rglob("*.yaml"))
        for _ in range(max(5, args.rounds // 4)):
            os.utime(victim)  # an edit: new mtime, cache stale
            cold.append(run_once(search, fenv)[0])
            warm.append(run_once(search, fenv)[0])
        c, w = statistics.median(cold), statistics.median(warm)
        ok = c / w <= 3.0
        all_ok &= ok
        verdict = "ok" if ok else "MISS"
        label = "first run after an edit (cache rebuild)"
        print(f"  {label:<46} {c * 1000:7.1f} ms  {c / w:5.2f}× a warm run ({w * 1000:.1f} ms)  ≤ 3.0×  {verdict}")

        # Synthetic fact bases.
        prev: tuple[int, float] | None = None
        for n in sizes:
            out = work / f"synthetic-{n}"
            subprocess.run([PY, str(HERE / "generate.py"), str(n), str(out)], check=True, stdout=subprocess.DEVNULL)
            senv = {**env, "KZRIGHTS_FACTS": str(out)}
            t0 = time.perf_counter()
            run_once([*KZ, "validate"], senv)
            build = time.perf_counter() - t0
            sc = {
                "reference: python -c 'import typer'": (ref_cmd, senv),
                f"search at {n:,} claims --json": ([*KZ, "search", "Tulesova protest", "--json"], senv),
                f"search typo at {n:,} claims --json": ([*KZ, "search", "Nazarbaeyv", "--json"], senv),
            }
            rounds = max(5, args.rounds // (3 if n >= 100_000 else 1))
            r = medians(sc, rounds)
            ref_n = r["reference: python -c 'import typer'"][0]
            target = 8.0 if n >= 100_000 else 2.0 if n >= 10_000 else 1.3
            print(f"synthetic fact base, {n:,} claims ({rounds} rounds; validate {build:.1f} s)")
            for name, (t, rss) in r.items():
                if name.startswith("reference") or "typo" in name:  # typo searches: shown, no target
                    text, _ = line(name, t, ref_n, None, rss)
                else:
                    text, ok = line(name, t, ref_n, target, rss)
                    mem_ok = rss / 1024 <= 400
                    all_ok &= ok and mem_ok
                    text += "" if mem_ok else "  (peak memory over 400 MB)"
                print(text)
            t_search = r[f"search at {n:,} claims --json"][0]
            if prev is not None:
                print(f"  growth t({n:,})/t({prev[0]:,}) = {t_search / prev[1]:.2f} for {n / prev[0]:.0f}× the claims")
            prev = (n, t_search)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("all targets met" if all_ok else "some targets missed")
    return 0 if (all_ok or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
