"""The core as a Python user calls it: ``kzrights.queries`` returns typed records, no output."""

from __future__ import annotations

import pytest

from kzrights import queries
from kzrights.errors import NotFoundError, UsageError
from kzrights.factbase import FactBase, Filters
from kzrights.load import packaged_facts_dir
from kzrights.model import Claim, Entity, Report, Topic
from kzrights.results import Pair

from .conftest import MINI


@pytest.fixture(scope="module")
def fb() -> FactBase:
    return FactBase.load(MINI, use_cache=False)


@pytest.fixture(scope="module")
def real() -> FactBase:
    return FactBase.load(packaged_facts_dir(), use_cache=False)


# --------------------------------------------------------------------------- filters and search


def test_make_filters_checks_dates_and_bounds_names() -> None:
    assert queries.make_filters("rep-a", since="2020-02", until="2020") == Filters("rep-a", None, None, None, "2020-02", "2020")
    with pytest.raises(UsageError, match=r"^--since: not a date: '2020-02-30' \(accepted: YYYY, YYYY-MM, YYYY-MM-DD\)$"):
        queries.make_filters(since="2020-02-30")
    with pytest.raises(UsageError, match=r"^--person is 301 characters long; a name or subject has at most 300$"):
        queries.make_filters(person="x" * 301)


def test_search_returns_the_answer_and_the_rows_data_formats_list(fb: FactBase) -> None:
    found = queries.search(fb, "Mamai", limit=1)
    assert found.answer.answered and found.answer.total == 2 and len(found.answer.hits) == 1
    assert found.claims == found.answer.hits and not found.filtered
    near = queries.search(fb, "Mamay xylophone", queries.make_filters(report="rep-a"), partial=True)
    assert not near.answer.answered and near.filtered
    assert near.claims == near.answer.partial and all(not h.full for h in near.claims)
    assert queries.no_answer_message(near.answer, near.filtered) == (
        "no claim in the reports answers 'Mamay xylophone' with these filters; no claim holds: xylophone"
    )


# --------------------------------------------------------------------------- claims by id


def test_close_ids_prefer_a_cut_off_id_then_a_typo_never_an_unrelated_one() -> None:
    ids = ["nit-cs-08-tulesova-sentence", "nit-cs-08-tulesova-hat", "nit-cs-07-agadil-died", "fpc-hr-22-tulesova-sentence"]
    assert queries.close_ids(ids, "nit-cs-08-tulesova") == ["nit-cs-08-tulesova-sentence", "nit-cs-08-tulesova-hat"]
    assert queries.close_ids(ids, "nit-cs-08-tulesova-sentense")[0] == "nit-cs-08-tulesova-sentence"
    assert queries.close_ids(ids, "zzz-unrelated") == []


def test_claims_by_id_keeps_the_order_and_names_every_unknown_id(fb: FactBase) -> None:
    got = queries.claims_by_id(fb, ["b-cs-03-dvk-banned", "a-pol-01-dvk-banned"])
    assert [c.id for c in got] == ["b-cs-03-dvk-banned", "a-pol-01-dvk-banned"] and isinstance(got[0], Claim)
    with pytest.raises(NotFoundError) as exc:
        queries.claims_by_id(fb, ["a-pol-03-mamai", "a-pol-01-dvk-banned", "nope"])
    assert str(exc.value) == "no claim with id 'a-pol-03-mamai'; no claim with id 'nope'"
    assert exc.value.suggestions[0] == "a-pol-03-mamai-party"


def test_citations_in_every_style(fb: FactBase) -> None:
    for style in queries.CITE_STYLES:
        got = queries.citations(fb, ["a-pol-03-mamai-party", "b-cs-02-mamay-detained"], style)
        assert got.style == style and [c.id for c in got.claims] == ["a-pol-03-mamai-party", "b-cs-02-mamay-detained"]
        assert len(got.texts) == 2 and all(got.texts)
    assert queries.citations(fb, ["a-pol-03-mamai-party"]).texts[0].startswith("Ann Author, “Report A on Testland”")
    with pytest.raises(UsageError, match="unknown citation style 'apa'"):
        queries.citations(fb, ["a-pol-03-mamai-party"], "apa")


# --------------------------------------------------------------------------- names


def test_entity_report_orders_claims_and_counts_them_all(fb: FactBase) -> None:
    got = queries.entity_report(fb, "person", "Janbolat Mamai", limit=1)
    assert isinstance(got.record, Entity) and got.record.id == "zhanbolat-mamay" and got.kind == "person"
    assert [c.id for c in got.claims] == ["a-pol-03-mamai-party"] and got.total == 2
    topic = queries.entity_report(fb, "topic", "media freedom")
    assert isinstance(topic.record, Topic) and topic.kind == "topic" and topic.total == 2
    namesakes = queries.entity_report(fb, "person", "Abishev")
    assert namesakes.alternatives == ("Olzhas Abishev (olzhas-abishev)",)
    with pytest.raises(NotFoundError, match="no person matches 'Xylophone'"):
        queries.entity_report(fb, "person", "Xylophone")


def test_listing_counts_claims_most_first(fb: FactBase) -> None:
    got = queries.listing(fb, "person")
    counts = [i.claims for i in got.items]
    assert got.kind == "person" and counts == sorted(counts, reverse=True)
    assert (got.items[0].record.id, got.items[0].claims) == ("zhanbolat-mamay", 2)
    assert {i.record.id for i in queries.listing(fb, "topic").items} >= {"press-freedom", "political-parties"}


def test_names_match_as_typed_then_by_folded_spelling(fb: FactBase) -> None:
    assert queries.matching_names(fb, ("person",), "Janb") == [("person:zhanbolat-mamay", "Janbolat Mamai")]
    assert queries.matching_spellings(fb, ("person",), "Dzhanb") == ["Janbolat Mamai", "Zhanbolat Mamay"]
    assert queries.matching_spellings(fb, ("organization",), "dv") == ["DVK"]


def test_subject_claims_resolve_a_name_through_the_fact_base_else_search(fb: FactBase) -> None:
    label, claims = queries.subject_claims(fb, "Mamai")
    assert label == "Zhanbolat Mamay (zhanbolat-mamay)"
    assert {c.id for c in claims} == {"a-pol-03-mamai-party", "b-cs-02-mamay-detained"}
    label, claims = queries.subject_claims(fb, "Nazarbaev")  # a misspelling FactBase.resolve accepts
    assert label == "Nursultan Nazarbayev (nursultan-nazarbayev)"
    label, claims = queries.subject_claims(fb, "24 attacks")  # names nothing: the claims a search finds
    assert label == "'24 attacks'" and [c.id for c in claims] == ["a-med-02-journalists-attacked"]
    with pytest.raises(UsageError):
        queries.subject_claims(fb, "  ")


# --------------------------------------------------------------------------- the fact base


def test_sources_scores_stats(fb: FactBase) -> None:
    src = queries.sources(fb)
    assert [(r.id, n) for r, n in src.reports] == [("rep-a", 7), ("rep-b", 4)] and isinstance(src.reports[0].report, Report)
    assert [r.democracy_score for r in queries.scores(fb).ratings] == [1.38]
    s = queries.stats(fb)
    assert (s.claims, s.by_report, s.cross_report_links) == (11, {"rep-a": 7, "rep-b": 4}, 2)
    assert s.links == {"complements": 1, "differs": 1} and s.entities == {"person": 5, "organization": 2, "place": 1}
    politics = next(x for x in s.sections if x.section == "Politics")
    assert (politics.claims, politics.paragraphs_cited, politics.highest_paragraph, politics.dated) == (4, 4, 4, 3)


def test_select_keeps_fact_base_order(fb: FactBase) -> None:
    assert [c.id for c in queries.select(fb, Filters(report="rep-b")).claims][:1] == ["b-cs-02-mamay-detained"]
    assert len(queries.select(fb).claims) == 11


# --------------------------------------------------------------------------- both reports


def test_two_reports_defaults_and_errors(fb: FactBase) -> None:
    assert queries.two_reports(fb) == ("rep-a", "rep-b")
    assert queries.two_reports(fb, "rep-b") == ("rep-b", "rep-a")
    with pytest.raises(UsageError, match="--right: unknown report 'rep-z'"):
        queries.two_reports(fb, right="rep-z")
    with pytest.raises(UsageError, match="two different reports"):
        queries.two_reports(fb, "rep-a", "rep-a")


def test_compare_pairs_linked_claims_and_keeps_the_rest_apart(fb: FactBase) -> None:
    cmp = queries.compare(fb, "political parties")
    assert (cmp.left, cmp.right) == ("rep-a", "rep-b")
    assert [(p.left.id, p.kind, p.right.id) for p in cmp.pairs] == [
        ("a-pol-01-dvk-banned", "differs", "b-cs-03-dvk-banned"),
        ("a-pol-03-mamai-party", "complements", "b-cs-02-mamay-detained"),
    ]
    assert [c.id for c in cmp.left_only] == ["a-pol-02-elbasy-council"] and cmp.right_only == []


def test_conflicts_say_what_kind_of_difference(fb: FactBase) -> None:
    found = queries.conflicts(fb)
    assert [(d.nature, d.pair.left.id, d.pair.right.id) for d in found.differs] == [
        ("precision", "a-pol-01-dvk-banned", "b-cs-03-dvk-banned")  # 2018-03 against 2018
    ]
    assert [c.id for c in found.noted] == ["a-pol-04-aset-jailed"]
    assert queries.conflicts(fb, "rep-b").noted == []
    with pytest.raises(UsageError, match="unknown report 'nope'"):
        queries.conflicts(fb, "nope")


def _claim(report: str, date: str | None) -> Claim:
    return Claim(id=f"{report}-x", claim="x", report=report, section="s", para=1, date=date)


@pytest.mark.parametrize(
    ("a", "b", "note", "nature"),
    [
        ("2018-03", "2018", "B gives only the year", "precision"),
        ("2021", "2020", "155th in 2021, 157th in 2020", "years"),  # each in its own report's year
        ("2016", "2018", "traced to 2015 and 2016; introduced in 2018", "disagree"),
        ("2020-06", "2020-05", 'banned as "extremist" in May; in June', "disagree"),
        ("2019", "2020", 'calls it a "hearing state"; says "listening state"', "wording"),
        (None, None, "they differ", "disagree"),
    ],
)
def test_difference_nature(fb: FactBase, a: str | None, b: str | None, note: str, nature: str) -> None:
    # rep-a covers "up to July 2021", rep-b "calendar year 2020"
    assert queries.difference_nature(fb, Pair(_claim("rep-a", a), _claim("rep-b", b), "differs", note)) == nature


def test_real_disagreements_come_first_on_the_real_base(real: FactBase) -> None:
    natures = [d.nature for d in queries.conflicts(real).differs]
    assert natures == sorted(natures, key=queries.NATURES.index) and "disagree" in natures
    assert {queries.report_year(r) for r in real.reports.values()} == {"2020", "2021"}


def test_timeline_orders_dated_claims_and_counts_the_rest(fb: FactBase) -> None:
    got = queries.timeline(fb)
    dates = [c.date or "" for c in got.claims]
    assert dates == sorted(dates) and got.undated == 2 and got.subject is None
    mamay = queries.timeline(fb, "Mamai", queries.make_filters(since="2020-02"))
    assert [c.id for c in mamay.claims] == ["a-pol-03-mamai-party", "b-cs-02-mamay-detained"] and mamay.undated == 0
