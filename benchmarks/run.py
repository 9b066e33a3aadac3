#!/usr/bin/env python3
"""Whole-process timings of kzrights against `python -c "import typer"`, as ratios.

Every query is a fresh process, so start-up is the product's speed. Commands are run
interleaved, round after round, and compared by their medians in the same run, so the
ratios hold on a noisy machine. Peak memory is each process's maximum resident set.

usage: python benchmarks/run.py [--rounds N] [--sizes 10000,100000] [--million] [--data DIR] [--check]
Run it with the interpreter of the environment kzrights is installed in (e.g. .venv/bin/python).
  --sizes    synthetic fact-base sizes to generate and measure (0 to skip)
  --million  add 1,000,000 claims (generating takes a few minutes, the first build more)
  --data     keep generated fact bases in DIR and reuse them on the next run
  --check    exit 1 if a ratio misses its target

For each synthetic size it reports the first build (`validate` into an empty cache: the
median wall time of three, one at 1,000,000 claims, and the peak memory), three queries —
a rare word (a generated person's name, a dozen claims at every size), a common word
("Kazakhstan", in two claims of three) and a typo ("Nazarbaeyv") — as ratios to `import
typer` with their peak memory, and for comparison the time of the same rare and common word
as an SQLite FTS5 query over the same claims, in process (no start-up). It ends with that
table in Markdown, as the README shows it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
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
REF = "reference: python -c 'import typer'"
COMMON, TYPO = "Kazakhstan", "Nazarbaeyv"
# the targets (#18): ratios to `import typer`, peak memory in MB, build in s and MB
TARGETS = {
    100_000: {"rare": 1.5, "common": 2.5, "typo": 2.0, "peak": 100, "build": 12, "build_peak": 400},
    1_000_000: {"rare": 2.0, "common": 4.0, "typo": 3.0, "peak": 150, "build": 150, "build_peak": 1500},
}
GROWTH = 1.5  # t(1M) / t(100k) for the rare word


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


def first_build(env: dict[str, str], cache: Path, times: int) -> tuple[float, int, int]:
    """The first build (``validate`` into an empty cache), ``times`` times: the median wall
    time, the largest peak memory, and how many builds they are of."""
    walls, peak = [], 0
    for _ in range(times):
        shutil.rmtree(cache, ignore_errors=True)
        wall, rss = run_once([*KZ, "validate"], env)
        walls.append(wall)
        peak = max(peak, rss)
    return statistics.median(walls), peak, times


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


# This process stays small: on Linux a child's peak memory counts what it inherited from
# the fork until it runs the command, so what is large here (a big fact file parsed, an
# FTS5 index) is done in a process of its own (``helper``).


def helper(*args: str) -> str:
    return subprocess.run([PY, __file__, "--helper", *args], check=True, capture_output=True, text=True).stdout.strip()


def rare_word(facts: Path) -> str:
    """A generated person's surname: the claims tagged with that person, a dozen at any size."""
    return helper("rare", str(facts))


def fts_times(store: Path, words: list[str]) -> list[float]:
    return [float(t) for t in helper("fts", str(store), *words).split()]


def _rare_word(facts: Path) -> str:
    import yaml

    people = yaml.load((facts / "people.yaml").read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    person = next(p for p in people["people"] if p["id"] == "syn-person-7")
    return str(person["aliases"][0])


def _fts_times(store: Path, words: list[str], rounds: int = 7) -> list[float]:
    """Milliseconds for each word as an SQLite FTS5 query (the ten best by rank) over the same
    claims' text, in process: what the engine alone costs, without kzrights' ranking."""
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE f USING fts5(text)")
    src = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    cur = src.execute("SELECT text FROM claims")
    while batch := cur.fetchmany(10_000):
        con.executemany("INSERT INTO f (text) VALUES (?)", batch)
    src.close()
    out = []
    for w in words:
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            con.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY rank LIMIT 10", (f'"{w.lower()}"',)).fetchall()
            times.append(time.perf_counter() - t)
        out.append(statistics.median(times) * 1000)
    con.close()
    return out


def real_base(args: argparse.Namespace, work: Path, env: dict[str, str]) -> bool:
    all_ok = True
    ref_cmd = [PY, "-c", "import typer"]
    cases = {
        REF: (ref_cmd, env),
        "search Q --json": ([*KZ, "search", "Tulesova", "--json"], env),
        "search Q (table, COLUMNS=100)": ([*KZ, "search", "Tulesova"], env),
        "search 'party registration' --json": ([*KZ, "search", "party registration", "--json"], env),
        f"search {COMMON} --json (two claims in three)": ([*KZ, "search", COMMON, "--json"], env),
        f"search typo '{TYPO}' --json (fuzzy)": ([*KZ, "search", TYPO, "--json"], env),
        "search 'свобода слова' --json (Russian)": ([*KZ, "search", "свобода слова", "--json"], env),
        "search 'жемқорлық' --json (Kazakh)": ([*KZ, "search", "жемқорлық", "--json"], env),
        "person NAME --json": ([*KZ, "person", "Mamai", "--json"], env),
        "show ID": ([*KZ, "show", "nit-cs-08-tulesova-sentence"], env),
    }
    targets = {
        "search Q --json": 1.3,
        "search Q (table, COLUMNS=100)": 1.8,
        "search 'party registration' --json": 1.3,
        "search 'свобода слова' --json (Russian)": 1.3,
        "search 'жемқорлық' --json (Kazakh)": 1.3,
        "person NAME --json": 1.3,
        "show ID": 1.3,
    }
    print(f"real fact base, {args.rounds} rounds, medians of whole-process runs ({sys.version.split()[0]})")
    res = medians(cases, args.rounds)
    ref = res[REF][0]
    for name, (t, rss) in res.items():
        text, ok = line(name, t, ref, targets.get(name), rss)
        all_ok &= ok
        print(text)

    # The first run after an edit vs a warm run (real fact base, copied so it can be touched).
    facts = work / "facts"
    shutil.copytree(ROOT / "facts", facts)
    fenv = {**env, "KZRIGHTS_FACTS": str(facts)}
    search = [*KZ, "search", "Tulesova", "--json"]
    run_once(search, fenv)
    cold, warm = [], []
    victim = next((facts / "claims").rglob("*.yaml"))
    for _ in range(max(5, args.rounds // 3)):
        os.utime(victim)  # an edit: new mtime, the store is stale
        cold.append(run_once(search, fenv)[0])
        warm.append(run_once(search, fenv)[0])
    c, w = statistics.median(cold), statistics.median(warm)
    ok = c / w <= 3.0
    all_ok &= ok
    label = "first run after an edit (store patched)"
    print(f"  {label:<46} {c * 1000:7.1f} ms  {c / w:5.2f}× a warm run ({w * 1000:.1f} ms)  ≤ 3.0×  {'ok' if ok else 'MISS'}")
    return all_ok


def synthetic(
    n: int, args: argparse.Namespace, work: Path, env: dict[str, str], rows: list[str], rare_times: dict[int, float]
) -> bool:
    all_ok = True
    data = Path(args.data) if args.data else work
    out = data / f"synthetic-{n}"
    if not (out / "sources.yaml").is_file():
        t0 = time.perf_counter()
        subprocess.run([PY, str(HERE / "generate.py"), str(n), str(out)], check=True, stdout=subprocess.DEVNULL)
        print(f"synthetic fact base, {n:,} claims: generated in {time.perf_counter() - t0:.0f} s")
    cache = work / f"cache-{n}"
    senv = {**env, "KZRIGHTS_FACTS": str(out), "KZRIGHTS_CACHE_DIR": str(cache)}
    build, build_rss, builds = first_build(senv, cache, 1 if n >= 1_000_000 else 3)
    rare = rare_word(out)
    sc = {
        REF: ([PY, "-c", "import typer"], senv),
        "rare": ([*KZ, "search", rare, "--json"], senv),
        "common": ([*KZ, "search", COMMON, "--json"], senv),
        "typo": ([*KZ, "search", TYPO, "--json"], senv),
    }
    rounds = max(5, args.rounds // (4 if n >= 1_000_000 else 3 if n >= 100_000 else 2))
    r = medians(sc, rounds)
    ref = r[REF][0]
    goal = TARGETS.get(n, {})
    print(f"synthetic fact base, {n:,} claims ({rounds} rounds)")
    ok_b = build <= goal.get("build", float("inf")) and build_rss / 1024 <= goal.get("build_peak", float("inf"))
    all_ok &= ok_b
    bgoal = f"≤ {goal['build']} s, ≤ {goal['build_peak']} MB" if goal else ""
    verdict = "ok" if ok_b else "MISS"
    what = "first build (validate, empty cache)" + (f", median of {builds}" if builds > 1 else "")
    print(f"  {what:<46} {build:7.1f} s   {build_rss / 1024:7.0f} MB  {bgoal}  {verdict}")
    peak = 0
    for kind in ("rare", "common", "typo"):
        t, rss = r[kind]
        peak = max(peak, rss)
        word = {"rare": rare, "common": COMMON, "typo": TYPO}[kind]
        text, ok = line(f"search {word!r} --json ({kind})", t, ref, goal.get(kind), rss)
        all_ok &= ok
        print(text)
    ok_p = peak / 1024 <= goal.get("peak", float("inf"))
    all_ok &= ok_p
    pgoal = f"≤ {goal['peak']} MB" if goal else ""
    print(f"  {'query peak memory':<46} {peak / 1024:7.1f} MB  {pgoal}  {'ok' if ok_p else 'MISS'}")
    store = next(cache.glob("factbase-*.sqlite"))
    fts = fts_times(store, [rare, COMMON])
    print(f"  {'SQLite FTS5, same claims, in process':<46} rare {fts[0]:.1f} ms, common {fts[1]:.1f} ms")
    rare_times[n] = r["rare"][0]
    ratios = " / ".join(f"{r[k][0] / ref:.2f}×" for k in ("rare", "common", "typo"))
    size = f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000:,}k"
    cells = [
        size,
        f"{build:.1f} s",
        f"{build_rss / 1024:,.0f} MB",
        ratios,
        f"{peak / 1024:.0f} MB",
        f"{fts[0]:.0f} ms / {fts[1]:.0f} ms",
    ]
    rows.append("| " + " | ".join(cells) + " |")
    return all_ok


def main() -> int:
    if sys.argv[1:2] == ["--helper"]:
        kind, *rest = sys.argv[2:]
        print(_rare_word(Path(rest[0])) if kind == "rare" else " ".join(f"{t:.2f}" for t in _fts_times(Path(rest[0]), rest[1:])))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--million", action="store_true", help="also 1,000,000 claims")
    ap.add_argument("--data", help="keep the generated fact bases here, and reuse them")
    ap.add_argument("--no-real", action="store_true", help="skip the real fact base")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip() and int(s)]
    if args.million and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    work = Path(tempfile.mkdtemp(prefix="kzbench-"))
    env = {**os.environ, "KZRIGHTS_CACHE_DIR": str(work / "cache"), "COLUMNS": "100"}
    env.pop("KZRIGHTS_FACTS", None)
    # Let Python cache bytecode, as on a user's machine (an editable install would otherwise
    # recompile kzrights on every run while the reference's typer comes precompiled).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    all_ok = True
    rows: list[str] = []
    rare_times: dict[int, float] = {}
    try:
        if not args.no_real:
            all_ok &= real_base(args, work, env)
        for n in sizes:
            all_ok &= synthetic(n, args, work, env, rows, rare_times)
        if 100_000 in rare_times and 1_000_000 in rare_times:
            growth = rare_times[1_000_000] / rare_times[100_000]
            ok = growth <= GROWTH
            all_ok &= ok
            print(f"  growth of a rare word t(1M)/t(100k) = {growth:.2f}  ≤ {GROWTH}  {'ok' if ok else 'MISS'}")
        if rows:
            head = ["claims", "first build", "build peak", "query: rare / common / typo", "query peak"]
            print("\n| " + " | ".join([*head, "SQLite FTS5 on the same base: rare / common"]) + " |")
            print("|---|---|---|---|---|---|")
            print("\n".join(rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("all targets met" if all_ok else "some targets missed")
    return 0 if (all_ok or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
