"""Ranking on the fixture fact base: tiers, aliases, namesakes, topics, filters."""

from __future__ import annotations

import pytest

from kzrights.errors import NotFoundError, UsageError
from kzrights.factbase import FactBase, Filters
from kzrights.search import TIER_PHRASE

from .conftest import MINI


@pytest.fixture(scope="module")
def fb() -> FactBase:
    return FactBase.load(MINI, use_cache=False)


def ids(hits) -> list[str]:
    return [h.claim.id for h in hits]


def test_exact_phrase_ranks_above_scattered_words(fb: FactBase) -> None:
    hits = fb.search("Security Council for life")
    assert ids(hits)[0] == "a-pol-02-elbasy-council"
    assert hits[0].tier == TIER_PHRASE and hits[0].match is not None and hits[0].match.via == "phrase"


def test_alias_finds_the_entity_claims(fb: FactBase) -> None:
    hits = fb.search("Elbasy")
    assert ids(hits) == ["a-pol-02-elbasy-council"]
    assert hits[0].match is not None and (hits[0].match.field, hits[0].match.via, hits[0].match.form) == (
        "person",
        "alias",
        "Elbasy",
    )


@pytest.mark.parametrize("query", ["DVK", "QDT", "Democratic Choice"])
def test_abbreviations_find_the_organisation(fb: FactBase, query: str) -> None:
    assert set(ids(fb.search(query))) >= {"a-pol-01-dvk-banned", "b-cs-03-dvk-banned"}


@pytest.mark.parametrize("query", ["Mamai", "Mamay", "Janbolat Mamay", "Жанболат Мамай", "Zhanbolat Mamai"])
def test_transliterations_find_both_reports(fb: FactBase, query: str) -> None:
    assert set(ids(fb.search(query))[:2]) == {"a-pol-03-mamai-party", "b-cs-02-mamay-detained"}


def test_typo_is_found_by_fuzzy_match_in_the_lowest_tier(fb: FactBase) -> None:
    hits = fb.search("Nazarbayevv")
    assert "a-pol-02-elbasy-council" in ids(hits)
    assert hits[0].score <= 100


def test_cyrillic_query(fb: FactBase) -> None:
    assert ids(fb.search("Назарбаев"))[0] == "a-pol-02-elbasy-council"


def test_entity_match_outranks_fuzzy_namesake(fb: FactBase) -> None:
    hits = fb.search("Nazarbayeva")
    assert ids(hits)[0] == "b-cor-03-nazarbayeva-property"


def test_short_query_does_not_match_long_text_by_accident(fb: FactBase) -> None:
    # "on" and "a" are in the long claim; single letters and stop words never match alone.
    assert fb.search("a") == []
    assert "a-med-03-long-text" not in ids(fb.search("ma"))
    # a three-letter word matches only itself, never by fuzziness
    assert fb.search("wor") == []


def test_topic_query_ranks_tagged_claims_first(fb: FactBase) -> None:
    hits = fb.search("media freedom", limit=3)
    assert set(ids(hits)[:2]) == {"a-med-01-rank", "a-med-02-journalists-attacked"}
    assert all(h.claim.topics == ("press-freedom",) for h in hits[:2])


def test_scores_are_sorted_and_bounded(fb: FactBase) -> None:
    hits = fb.search("Report says party 2020", limit=20)
    keys = [(h.tier, h.score) for h in hits]
    assert keys == sorted(keys, reverse=True)
    assert all(0 <= h.score <= 100 for h in hits)


def test_limit(fb: FactBase) -> None:
    assert len(fb.search("Report", limit=2)) == 2
    with pytest.raises(UsageError):
        fb.search("Report", limit=0)


def test_empty_query_is_a_usage_error(fb: FactBase) -> None:
    with pytest.raises(UsageError):
        fb.search("   ")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Aset Abishev", "person:aset-abishev"),
        ("Olzhas Abishev", "person:olzhas-abishev"),
        ("Abishev healthcare minister", "person:olzhas-abishev"),
        ("Abishev activist", "person:aset-abishev"),
        ("Elbasy", "person:nursultan-nazarbayev"),
        ("Назарбаев", "person:nursultan-nazarbayev"),
        ("Janbolat Mamai", "person:zhanbolat-mamay"),
    ],
)
def test_resolve_person(fb: FactBase, query: str, expected: str) -> None:
    assert fb.resolve(query, ("person",)).tag == expected


def test_bare_surname_of_namesakes_offers_the_other(fb: FactBase) -> None:
    r = fb.resolve("Abishev", ("person",))
    assert {r.tag, *(c.tag for c in r.alternatives)} == {"person:aset-abishev", "person:olzhas-abishev"}


def test_no_one_close_raises_with_suggestions(fb: FactBase) -> None:
    with pytest.raises(NotFoundError) as err:
        fb.resolve("Abishevskaya-Tolstova", ("person",))
    assert err.value.exit_code == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(report="rep-b"), {"b-cs-02-mamay-detained"}),
        (Filters(since="2020-02", until="2020-02"), {"a-pol-03-mamai-party", "b-cs-02-mamay-detained"}),
        (Filters(since="2021"), set()),
        (Filters(person="Mamai", report="rep-a"), {"a-pol-03-mamai-party"}),
    ],
)
def test_filters_combine_with_the_query(fb: FactBase, filters: Filters, expected: set[str]) -> None:
    assert set(ids(fb.search("Mamay", filters))) == expected


def test_date_filters_compare_by_overlap(fb: FactBase) -> None:
    # A claim dated "2018" spans the year: --since 2018-06 keeps it, --until 2017 drops it.
    assert "a-pol-04-aset-jailed" in ids(fb.search("Abishev", Filters(since="2018-06")))
    assert "a-pol-04-aset-jailed" not in ids(fb.search("Abishev", Filters(until="2017")))
    # A month-precise claim outside the range is dropped; undated claims drop under a date filter.
    assert ids(fb.search("Democratic Choice", Filters(since="2018-04"))) == ["b-cs-03-dvk-banned"]
    assert fb.search("Security Council", Filters(since="1990")) == []


def test_bad_filter_values(fb: FactBase) -> None:
    with pytest.raises(UsageError):
        fb.search("x", Filters(since="June 2020"))
    with pytest.raises(UsageError):
        fb.search("x", Filters(report="nope"))
