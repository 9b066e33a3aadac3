"""Property tests (hypothesis): normaliser, search and loader on arbitrary input."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kzrights.errors import FactBaseError, KzrightsError
from kzrights.factbase import FactBase, Filters
from kzrights.load import fact_files, read_fact_base
from kzrights.render.contract import claim_dict
from kzrights.text import fold_key, normalize_text

from .conftest import MINI

# Letters from the scripts users type, plus punctuation, digits, controls and emoji.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("абвгдежзийклмнопрстуфхцчшщъыьэюяәғқңөұүһіАӘҒҚҢӨҰҮҺІ'’“”-–—., 0123456789")),
    ),
    max_size=200,
)
FB = FactBase.load(MINI, use_cache=False)


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_normalize_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert once == once.strip() and "  " not in once
    assert fold_key(once) == fold_key(text)


@settings(max_examples=2000, deadline=None)
@given(TEXT, st.integers(min_value=1, max_value=20))
def test_search_never_raises_and_sorts_within_the_limit(query: str, limit: int) -> None:
    try:
        hits = FB.search(query, limit=limit)
    except KzrightsError:
        assert not query.strip()  # only an empty query is refused
        return
    assert len(hits) <= limit
    keys = [(h.tier, h.score) for h in hits]
    assert keys == sorted(keys, reverse=True)
    assert all(0 <= h.score <= 100 for h in hits)


@settings(max_examples=300, deadline=None)
@given(
    TEXT, st.sampled_from([Filters(report="rep-a"), Filters(since="2019"), Filters(until="2020-02"), Filters(topic="corruption")])
)
def test_filtered_search_respects_its_filter(query: str, filters: Filters) -> None:
    if not query.strip():
        return
    for h in FB.search(query, filters, limit=None):
        if filters.report:
            assert h.claim.report == filters.report
        if filters.since:
            assert h.claim.date is not None and h.claim.date[:4] >= filters.since
        if filters.until:
            assert h.claim.date is not None and h.claim.date[:7] <= filters.until
        if filters.topic:
            assert "corruption" in h.claim.topics


YAMLISH = st.one_of(
    TEXT,
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT),
        lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)),
        max_leaves=12,
    ).map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
    st.builds(
        lambda field, value: (
            f"report: rep-a\nsection: Politics\nclaims:\n  - id: x-1\n    para: 1\n    claim: ok\n    {field}: {value}\n"
        ),
        st.sampled_from(["para", "date", "people", "topics", "related", "notes", "claim", "id", "extra"]),
        TEXT.map(lambda t: t.replace("\n", " ")),
    ),
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
def test_loader_reports_any_file_as_problems_never_crashes(content: str) -> None:
    root = Path(tempfile.mkdtemp(prefix="kzfuzz-"))
    try:
        for name in ("sources.yaml", "people.yaml", "organizations.yaml", "places.yaml", "topics.yaml"):
            shutil.copy(MINI / name, root / name)
        (root / "claims" / "rep-a").mkdir(parents=True)
        (root / "claims" / "rep-a" / "fuzz.yaml").write_text(content, encoding="utf-8")
        try:
            read_fact_base(root, fact_files(root))
        except FactBaseError as err:
            assert err.problems
            for p in err.problems:
                assert p.file and p.message and p.line >= 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _write_back(fb: FactBase, rows: list[dict], root: Path) -> None:
    """Exported claim objects back into YAML claim files: the export must hold everything."""
    for name in ("sources.yaml", "people.yaml", "organizations.yaml", "places.yaml", "topics.yaml", "ratings.yaml"):
        shutil.copy(Path(fb.root) / name, root / name)
    files: dict[tuple[str, str], list[dict]] = {}
    for d in rows:
        src = d["source"]
        claim = {"id": d["id"], "para": src["para"], "claim": d["claim"]}
        for key, value in (
            ("notes", src["notes"]),
            ("date", d["date"]),
            ("people", [p["id"] for p in d["people"]]),
            ("organizations", [o["id"] for o in d["organizations"]]),
            ("places", [p["id"] for p in d["places"]]),
            ("topics", [t["id"] for t in d["topics"]]),
            ("note", d["note"]),
            ("related", [{k: v for k, v in r.items() if k in ("id", "kind", "note") and v is not None} for r in d["related"]]),
        ):
            if value:
                claim[key] = value
        files.setdefault((src["report"], src["section"]), []).append(claim)
    for i, ((report, section), claims) in enumerate(files.items()):
        (root / "claims" / report).mkdir(parents=True, exist_ok=True)
        doc = {"report": report, "section": section, "claims": claims}
        (root / "claims" / report / f"s{i}.yaml").write_text(
            yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )


@pytest.mark.parametrize("source", ["fixture", "real"])
def test_load_export_load_round_trips_every_claim(tmp_path: Path, source: str) -> None:
    from kzrights.load import packaged_facts_dir

    fb = FactBase.load(MINI if source == "fixture" else packaged_facts_dir(), use_cache=False)
    rows = [json.loads(json.dumps(claim_dict(fb, c), ensure_ascii=False)) for c in fb.all_claims()]
    _write_back(fb, rows, tmp_path)
    again = FactBase.load(tmp_path, use_cache=False)

    def comparable(c):
        return c._replace(file="", line=0)

    assert sorted(map(comparable, again.all_claims())) == sorted(map(comparable, fb.all_claims()))


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_json_string_matches_the_json_module(text: str) -> None:
    from kzrights.render.jsontext import json_string

    assert json_string(text) == json.dumps(text, ensure_ascii=False)


@pytest.mark.parametrize("source", ["fixture", "real"])
def test_claim_json_is_the_contract(source: str) -> None:
    from kzrights.load import packaged_facts_dir
    from kzrights.model import Hit, Match
    from kzrights.render.contract import claim_json

    fb = FactBase.load(MINI if source == "fixture" else packaged_facts_dir(), use_cache=False)
    for claim in fb.all_claims():
        assert claim_json(fb, claim) == json.dumps(claim_dict(fb, claim), ensure_ascii=False)
        hit = Hit(claim, 87.5, 2, Match("person", "alias", 'A "quoted"\\ form\n'))
        assert claim_json(fb, claim, hit) == json.dumps(claim_dict(fb, claim, hit), ensure_ascii=False)


JSON_DATA = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(), children, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=2000, deadline=None)
@given(JSON_DATA)
def test_json_value_matches_the_json_module(value) -> None:
    from kzrights.render.jsontext import json_value

    assert json_value(value) == json.dumps(value, ensure_ascii=False)
