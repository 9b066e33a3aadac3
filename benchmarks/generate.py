#!/usr/bin/env python3
"""Generate a synthetic fact base of N claims for benchmarks.

usage: python benchmarks/generate.py N OUTDIR [--seed S]

The text and entity mix follow the real fact base: each synthetic claim is a real claim's
text with its names swapped for generated ones and its figures varied, tagged like the
real claims (people, organisations, places, 1-3 topics, a date on most), spread over two
reports and sections of about 500 claims per file, with cross-report links on 1 in 8.
"""

from __future__ import annotations

import random
import re
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SYLLABLES = "ka za ly bek nur sul tan as an mar at ay gul dar ser ik bol zhan er lan ali mu rat tem ir oz"
SYLLABLES_LIST = SYLLABLES.split()


def name(rng: random.Random) -> str:
    def word(n: int) -> str:
        return "".join(rng.choice(SYLLABLES_LIST) for _ in range(n)).capitalize()

    return f"{word(2)} {word(3)}{rng.choice(['ov', 'ev', 'ova', 'eva', 'uly', 'kyzy'])}"


def load_real() -> tuple[list[dict], dict[str, list[dict]], list[dict]]:
    facts = ROOT / "facts"
    claims = []
    for f in sorted((facts / "claims").rglob("*.yaml")):
        claims += yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["claims"]
    entities = {
        k: yaml.load((facts / f"{k}.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)[k]
        for k in ("people", "organizations", "places")
    }
    topics = yaml.load((facts / "topics.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)["topics"]
    return claims, entities, topics


def main() -> None:
    n, out = int(sys.argv[1]), Path(sys.argv[2])
    rng = random.Random(int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 2021)
    real, entities, topics = load_real()
    if out.exists():
        shutil.rmtree(out)
    (out / "claims").mkdir(parents=True)

    # Entities: the real ones plus generated people and organisations, in proportion.
    people = list(entities["people"])
    for i in range(max(n // 12, 10)):
        full = name(rng)
        people.append(
            {
                "id": f"syn-person-{i}",
                "name": full,
                "aliases": [full.split()[-1]],
                "role": "Synthetic person",
                "description": "Generated for benchmarks.",
            }
        )
    orgs = list(entities["organizations"])
    for i in range(max(n // 40, 5)):
        orgs.append(
            {
                "id": f"syn-org-{i}",
                "name": f"{name(rng).split()[1]} Association",
                "kind": "ngo",
                "aliases": [f"SA{i}"],
                "description": "Generated for benchmarks.",
            }
        )
    places = list(entities["places"])
    for kind, items in (("people", people), ("organizations", orgs), ("places", places)):
        (out / f"{kind}.yaml").write_text(yaml.dump({kind: items}, Dumper=yaml.CSafeDumper, allow_unicode=True), encoding="utf-8")
    (out / "topics.yaml").write_text(yaml.dump({"topics": topics}, Dumper=yaml.CSafeDumper, allow_unicode=True), encoding="utf-8")

    per_file = 500
    n_files = max(1, -(-n // per_file))
    reports = {"syn-a": [], "syn-b": []}
    for f in range(n_files):
        reports["syn-a" if f % 2 == 0 else "syn-b"].append(f"Section {f}")
    sources = {
        "reports": [
            {
                "id": rid,
                "short": rid.upper(),
                "title": f"Synthetic report {rid}",
                "publisher": "Benchmarks",
                "author": "Generator",
                "published": "2021",
                "covers": "2020",
                "note_style": "endnote",
                "sections": secs,
                "notes": [],
            }
            for rid, secs in reports.items()
        ]
    }
    (out / "sources.yaml").write_text(yaml.dump(sources, Dumper=yaml.CSafeDumper, allow_unicode=True), encoding="utf-8")

    names_re = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)?\b")
    ids_by_report: dict[str, list[str]] = {"syn-a": [], "syn-b": []}
    made = 0
    for f in range(n_files):
        rid = "syn-a" if f % 2 == 0 else "syn-b"
        section = f"Section {f}"
        claims = []
        for k in range(min(per_file, n - made)):
            base = real[(made + k) % len(real)]
            who = rng.sample(people, rng.choice([0, 1, 1, 2]))
            text = base["claim"]
            if who:
                text = names_re.sub(lambda m, w=who: w[0]["name"] if rng.random() < 0.15 else m.group(), text)
            text = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(0, 9)), text)[:400]
            cid = f"{rid}-s{f}-{k}"
            claim = {
                "id": cid,
                "para": k // 5 + 1,
                "claim": text,
                "people": [p["id"] for p in who],
                "organizations": [o["id"] for o in rng.sample(orgs, rng.choice([0, 0, 1]))],
                "places": [p["id"] for p in rng.sample(places, rng.choice([0, 0, 1]))],
                "topics": [t["id"] for t in rng.sample(topics, rng.choice([1, 1, 2, 3]))],
            }
            if rng.random() < 0.8:
                claim["date"] = f"{rng.randint(2015, 2021)}-{rng.randint(1, 12):02d}"
            other = ids_by_report["syn-b" if rid == "syn-a" else "syn-a"]
            if other and rng.random() < 0.125:
                claim["related"] = [{"id": rng.choice(other), "kind": rng.choice(["corroborates", "complements"])}]
            claims.append(claim)
            ids_by_report[rid].append(cid)
        made += len(claims)
        (out / "claims" / rid).mkdir(exist_ok=True)
        doc = {"report": rid, "section": section, "claims": claims}
        (out / "claims" / rid / f"section-{f}.yaml").write_text(
            yaml.dump(doc, Dumper=yaml.CSafeDumper, allow_unicode=True, width=100), encoding="utf-8"
        )
    print(f"{made} claims, {len(people)} people, {len(orgs)} organisations in {out}")


if __name__ == "__main__":
    main()
