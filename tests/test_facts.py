"""The real fact base: it loads, validates, agrees with the reports, and its links are sound."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from kzrights.factbase import FactBase
from kzrights.load import packaged_facts_dir

from .conftest import PARAGRAPHS, paragraphs

FACTS = packaged_facts_dir()
# A claim may state the year a report leaves implicit: the year it covers or was written in.
IMPLICIT_YEARS = {"nit-2021": {"2020", "2021"}, "fpc-2021": {"2021"}}


@pytest.fixture(scope="module")
def fb() -> FactBase:
    return FactBase.load(FACTS, use_cache=False)


def test_real_fact_base_validates(run) -> None:
    r = run("validate", "--facts", str(FACTS))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("ok: ")


def test_both_reports_are_curated(fb: FactBase) -> None:
    counts = fb.report_counts()
    assert set(counts) == {"fpc-2021", "nit-2021"}
    assert all(n >= 300 for n in counts.values()), counts


def test_every_claim_cites_an_existing_paragraph(fb: FactBase) -> None:
    index = {(p["report"], p["section"], p["para"]) for p in paragraphs()}
    missing = [c.id for c in fb.all_claims() if (c.report, c.section, c.para) not in index]
    assert missing == []


def test_every_paragraph_of_both_reports_has_a_claim(fb: FactBase) -> None:
    cited = {(c.report, c.section, c.para) for c in fb.all_claims()}
    uncovered = [
        (p["report"], p["section"], p["para"]) for p in paragraphs() if (p["report"], p["section"], p["para"]) not in cited
    ]
    assert uncovered == []


def _strip_note_markers(text: str, report: str) -> str:
    text = re.sub(r"\[\d+\]", " ", text)
    if report.startswith("nit"):
        text = re.sub(r"\b((?:19|20)\d\d)\.\d{1,3}(?=\s|$)", r"\1. ", text)
        text = re.sub(r"(?:(?<=[A-Za-z\u201d\"')\]])|(?<=[A-Za-z\u201d\"')\]][.,;:]))\d{1,3}(?=[\s,.;:]|$)", " ", text)
    return text


def _numbers(text: str) -> set[str]:
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.replace("\u00a0", " "))
    return set(re.findall(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w])", text))


def test_every_figure_in_a_claim_appears_in_its_paragraph(fb: FactBase) -> None:
    text = {(p["report"], p["section"], p["para"]): p["text"] for p in paragraphs()}
    unfaithful = []
    for c in fb.all_claims():
        ptext = _strip_note_markers(text[(c.report, c.section, c.para)], c.report)
        pnums = _numbers(ptext)
        flat = re.sub(r"(?<=\d),(?=\d{3})", "", ptext)
        bad = {n for n in _numbers(c.claim) if n not in pnums and n not in flat and n not in IMPLICIT_YEARS.get(c.report, set())}
        if bad:
            unfaithful.append((c.id, sorted(bad)))
    assert unfaithful == []


def test_note_numbers_are_cited_by_the_paragraph(fb: FactBase) -> None:
    text = {(p["report"], p["section"], p["para"]): p["text"] for p in paragraphs()}
    wrong = [
        (c.id, n)
        for c in fb.all_claims()
        if c.report == "fpc-2021"
        for n in c.notes
        if f"[{n}]" not in text[(c.report, c.section, c.para)]
    ]
    assert wrong == []


def test_claims_are_short_and_ids_unique(fb: FactBase) -> None:
    claims = fb.all_claims()
    assert max(len(c.claim) for c in claims) <= 400
    assert [i for i, n in Counter(c.id for c in claims).items() if n > 1] == []


def test_links_exist_and_are_symmetric(fb: FactBase) -> None:
    pairs = {(c.id, ln.id, ln.kind) for c in fb.all_claims() for ln in c.related}
    assert pairs, "the fact base should link claims across reports"
    for a, b, kind in pairs:
        assert fb.has_claim(b), (a, b)
        assert (b, a, kind) in pairs, (a, b)


def test_differs_links_explain_the_difference(fb: FactBase) -> None:
    for c in fb.all_claims():
        for ln in c.related:
            if ln.kind == "differs":
                assert ln.note, (c.id, ln.id)


def test_every_entity_and_topic_is_used(fb: FactBase) -> None:
    used = set(fb.store.tags())
    unused = [tag for tag in fb.entities if tag not in used]
    assert unused == []


def test_ratings_agree_with_the_scores_paragraphs(fb: FactBase) -> None:
    text = {(p["report"], p["section"], p["para"]): p["text"] for p in paragraphs()}
    (rating,) = fb.ratings
    assert f"Democracy Score {rating.democracy_score:.2f} / 7" in text[(rating.report, rating.section, rating.para)]
    assert f"Democracy Percentage {rating.democracy_percentage} / 100" in text[(rating.report, rating.section, rating.para)]
    for c in rating.categories:
        assert f"{c.score:.2f} / 7.00" in text[(rating.report, c.section, c.para)], c.name
    assert round(sum(c.score for c in rating.categories) / len(rating.categories), 2) == rating.democracy_score


def test_endnote_urls_match_the_shared_endnotes(fb: FactBase) -> None:
    path = Path(__file__).resolve().parent.parent.parent / "shared" / "sources" / "fpc-2021-endnotes.jsonl"
    if not path.is_file():
        pytest.skip(f"../shared is absent ({path} not found)")
    notes = fb.reports["fpc-2021"].notes
    for line in path.read_text(encoding="utf-8").splitlines():
        n = json.loads(line)
        assert notes[n["note"]].text == n["text"]
        assert all(u in n["text"] for u in notes[n["note"]].urls)


def test_json_schemas_are_valid_and_the_files_conform() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra")
    import yaml

    for schema_path in sorted((FACTS / "schema").glob("*.schema.json")):
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        kind = schema_path.name.removesuffix(".schema.json")
        files = sorted((FACTS / "claims").rglob("*.yaml")) if kind == "claims" else [FACTS / f"{kind}.yaml"]
        for f in files:
            jsonschema.validate(yaml.safe_load(f.read_text(encoding="utf-8")), schema)


# The report's own attribution at the start of a claim: the citation beside the claim says it.
OWN_ATTRIBUTION = {
    "fpc-2021": re.compile(
        r"^(according to (the )?fpc( report)?|(the )?fpc( report)? (says|said|states|notes|reports|records|writes|describes|"
        r"mentions|observes|explains|adds|recounts|lists)|as (the )?fpc( report)? (says|notes|puts it))\b",
        re.IGNORECASE,
    ),
    "nit-2021": re.compile(
        r"^(according to (the )?(freedom house|nations in transit)( report| 2021)?|(freedom house|nations in transit)( 2021)? "
        r"(says|said|states|notes|reports|records|writes|describes|mentions|observes|explains|adds|lists)|as nations in transit"
        r" (says|notes|puts it))\b",
        re.IGNORECASE,
    ),
}
# ... unless a third party the report relies on is named right after ("According to FPC, citing Adil Soz, ...").
THIRD_PARTY = re.compile(r"^[^,]{0,40},? (citing|quoting|drawing on|relying on)\b", re.IGNORECASE)


@pytest.mark.parametrize(
    ("report", "text", "flagged"),
    [
        ("fpc-2021", "According to the FPC report, Asya Tulesova spent two months in detention.", True),
        ("fpc-2021", "The FPC report says the QDP was blocked.", True),
        ("fpc-2021", "According to the FPC report, citing Adil Soz, 20 journalists were attacked.", False),
        ("fpc-2021", "FPC judges the reforms cosmetic.", False),
        ("nit-2021", "Nations in Transit reports that the Mazhilis met.", True),
        ("nit-2021", "Nations in Transit 2021 scores Kazakhstan 1.50 out of 7.00.", False),
        ("nit-2021", "According to Adil Soz, 20 journalists were attacked.", False),
    ],
)
def test_own_attribution_check(report: str, text: str, flagged: bool) -> None:
    assert _opens_with_own_attribution(report, text) is flagged


def _opens_with_own_attribution(report: str, text: str) -> bool:
    m = OWN_ATTRIBUTION[report].match(text)
    return bool(m) and not THIRD_PARTY.match(text[m.end() :])


def test_no_claim_opens_with_its_own_reports_attribution(fb: FactBase) -> None:
    opening = [c.id for c in fb.all_claims() if _opens_with_own_attribution(c.report, c.claim)]
    assert opening == []


def test_few_claims_name_their_own_report(fb: FactBase) -> None:
    """Attribution stays only where it carries information (a rating, the report's own judgement)."""
    names = {
        "fpc-2021": re.compile(r"\bFPC\b|Foreign Policy Centre"),
        "nit-2021": re.compile(r"Nations in Transit|Freedom House"),
    }
    claims = fb.all_claims()
    naming = [c.id for c in claims if names[c.report].search(c.claim)]
    assert len(naming) <= 0.15 * len(claims), (len(naming), naming[:20])


def test_every_published_claim_id_still_exists(fb: FactBase) -> None:
    published = Path(__file__).parent / "data" / "claim-ids.txt"
    ids = [line for line in published.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert len(ids) >= 901
    assert [i for i in ids if not fb.has_claim(i)] == []


def test_every_claim_has_a_topic(fb: FactBase) -> None:
    assert [c.id for c in fb.all_claims() if not c.topics] == []


def test_every_claim_links_to_its_passage(fb: FactBase) -> None:
    """The link words of each claim's passage occur in that paragraph of the report, so the
    text fragment of its link finds the passage on the published page."""
    from urllib.parse import unquote

    text = {(p["report"], p["section"], p["para"]): p["text"] for p in paragraphs()}
    wrong = []
    for c in fb.all_claims():
        link = fb.passage_url(c)
        assert link and "#:~:text=" in link, c.id
        words = [unquote(w) for w in link.split("#:~:text=", 1)[1].split(",")]
        if not all(w and w in text[(c.report, c.section, c.para)] for w in words):
            wrong.append((c.id, words))
    assert wrong == []


def test_passage_links_are_generated_from_the_paragraph_index() -> None:
    """facts/passages.yaml is what scripts/passage_links.py writes from the reports' paragraphs."""
    import subprocess
    import sys

    paragraphs()  # skips where ../shared is absent
    script = Path(__file__).parent.parent / "scripts" / "passage_links.py"
    out = subprocess.run([sys.executable, str(script), str(PARAGRAPHS)], capture_output=True, text=True, check=True).stdout
    assert out == (FACTS / "passages.yaml").read_text(encoding="utf-8")
