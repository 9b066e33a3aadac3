"""Search answers, not word overlap (issue #13): the exit-code rule, partial matches apart and
labelled, question scaffolding, the search vocabulary (synonyms, Russian and Kazakh), decades."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kzrights.factbase import FactBase
from kzrights.query import analyse
from kzrights.search import decades

VOCABULARY = """\
concepts:
  - id: attack
    en: [attacks, attacked, assault, assaults, beaten up]
    ru: [нападение, избиение]
    kk: [шабуыл]
  - id: detention
    en: [detained, arrested, locked up]
    ru: [задержание, арест]
    kk: [қамау]
"""
TOPICS_RU_KK = """\
topics:
  - id: press-freedom
    label: Press freedom
    aliases: [media freedom, journalists]
    ru: [свобода прессы, журналисты]
    kk: [баспасөз бостандығы, журналистер]
  - id: political-prisoners
    label: Political prisoners
    aliases: [political prisoner, prisoners of conscience]
  - id: corruption
    label: Corruption
    aliases: [bribery]
    ru: [коррупция, взяточничество]
    kk: [жемқорлық, сыбайлас жемқорлық]
  - id: political-parties
    label: Political parties
    aliases: [opposition]
"""


@pytest.fixture
def vocab_mini(mini: Path) -> Path:
    (mini / "vocabulary.yaml").write_text(VOCABULARY, encoding="utf-8")
    (mini / "topics.yaml").write_text(TOPICS_RU_KK, encoding="utf-8")
    return mini


def _json(result) -> list[dict]:
    return json.loads(result.stdout)


# -- the exit-code rule -------------------------------------------------------------------


def test_a_full_answer_exits_0(run, vocab_mini: Path) -> None:
    r = run("search", "journalists attacked", "--json", "--facts", str(vocab_mini))
    assert r.exit_code == 0, r.stderr
    assert _json(r)[0]["id"] == "a-med-02-journalists-attacked"


def test_partial_matches_only_exit_1_with_an_empty_array(run, vocab_mini: Path) -> None:
    r = run("search", "journalists elephants", "--json", "--facts", str(vocab_mini))
    assert r.exit_code == 1
    assert _json(r) == []
    assert "no claim holds: elephants" in r.stderr


def test_partial_flag_adds_labelled_partial_matches(run, vocab_mini: Path) -> None:
    r = run("search", "journalists elephants", "--json", "--partial", "--facts", str(vocab_mini))
    assert r.exit_code == 1
    rows = _json(r)
    assert rows, "partial matches expected"
    assert all(x["match"] == "partial" and x["lacks"] == ["elephants"] for x in rows)


def test_full_answers_are_labelled_and_come_first_with_partial(run, vocab_mini: Path) -> None:
    r = run("search", "Mamay detained", "--json", "--partial", "--facts", str(vocab_mini))
    assert r.exit_code == 0
    rows = _json(r)
    labels = [x["match"] for x in rows]
    assert labels[0] == "full"
    assert labels == sorted(labels, key=lambda m: m != "full")  # no full answer after a partial one


def test_the_table_says_no_claim_answers_and_names_the_missing_word(run, vocab_mini: Path) -> None:
    r = run("search", "journalists elephants", "--facts", str(vocab_mini), env={"COLUMNS": "100"})
    assert r.exit_code == 1
    assert "No claim answers 'journalists elephants'" in r.stdout
    assert "not answers" in r.stdout


# -- the vocabulary -----------------------------------------------------------------------


def test_a_synonym_answers(run, vocab_mini: Path) -> None:
    r = run("search", "assaults on journalists", "--json", "--facts", str(vocab_mini))
    assert r.exit_code == 0, r.stderr
    top = _json(r)[0]
    assert top["id"] == "a-med-02-journalists-attacked"
    assert top["matched"]["via"] in ("synonym", "stem", "word")


def test_without_the_vocabulary_the_synonym_does_not_answer(run, mini: Path) -> None:
    r = run("search", "assaults on journalists", "--json", "--facts", str(mini))
    assert r.exit_code == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("свобода прессы", "a-med-01-rank"),  # a topic's Russian label
        ("журналистов", "a-med-01-rank"),  # an inflected Russian form of a topic word
        ("жемқорлық", "a-med-03-long-text"),  # a topic's Kazakh label
        ("задержание Мамая", "b-cs-02-mamay-detained"),  # a Russian concept term and a name
    ],
)
def test_cyrillic_topic_words_and_terms(run, vocab_mini: Path, query: str, expected: str) -> None:
    r = run("search", query, "--json", "--limit", "20", "--facts", str(vocab_mini))
    assert r.exit_code == 0, r.stderr
    assert expected in [x["id"] for x in _json(r)]


def test_a_cyrillic_ordinary_word_is_not_taken_for_a_name(run, vocab_mini: Path) -> None:
    """A Russian word the vocabulary does not know is not transliterated into a match."""
    r = run("search", "слонов", "--json", "--facts", str(vocab_mini))
    assert r.exit_code == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("concepts:\n  - id: a\n    en: [x]\n  - id: a\n    en: [y]\n", "vocabulary.yaml:4: duplicate concept id 'a'"),
        ("concepts:\n  - id: a\n    topics: [nope]\n    en: [x]\n", "vocabulary.yaml:3: unknown topic id 'nope'"),
        ("concepts:\n  - id: a\n    en: [x]\n    ru: [arest]\n", "vocabulary.yaml:4: ru term 'arest' is not in Cyrillic script"),
        ("concepts:\n  - id: a\n    en: [arrest, Arrest]\n", "vocabulary.yaml:3: en term 'Arrest' repeats term 1"),
    ],
)
def test_vocabulary_problems_are_reported_by_file_and_line(run, mini: Path, body: str, message: str) -> None:
    (mini / "vocabulary.yaml").write_text(body, encoding="utf-8")
    r = run("validate", "--facts", str(mini))
    assert r.exit_code == 2
    assert message in r.stderr, r.stderr


def test_a_vocabulary_term_problem_is_reported_on_every_run(run, mini: Path) -> None:
    """Terms are checked when the file is read, and a file with a problem is never kept in
    the per-file cache: a search after a validate meets the same problem."""
    (mini / "vocabulary.yaml").write_text("concepts:\n  - id: a\n    en: [x]\n    ru: [arest]\n", encoding="utf-8")
    for command in (("validate",), ("search", "x")):
        r = run(*command, "--facts", str(mini))
        assert r.exit_code == 2
        assert "vocabulary.yaml:4: ru term 'arest' is not in Cyrillic script" in r.stderr, r.stderr


# -- questions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "content", "wants", "report"),
    [
        ("how many journalists were attacked", ["journalists", "attacked"], "number", None),
        ("when was Mamay detained", ["mamay", "detained"], "date", None),
        ("what happened to Zhanbolat Mamay", ["zhanbolat", "mamay"], "event", None),
        ("who replaced Dariga Nazarbayeva", ["replaced", "dariga", "nazarbayeva"], "person", None),
        ("why was Bilash arrested", ["bilash", "arrested"], "reason", None),
        ("почему арестовали Билаша", ["арестовали", "билаша"], "reason", None),
        ("what does Nations in Transit say about torture", ["torture"], None, "nit-2021"),
        ("FPC on press freedom", ["press", "freedom"], None, "fpc-2021"),
        ("сколько журналистов", ["журналистов"], "number", None),
        ("who was allowed to stand in the election", ["stand", "election"], "person", None),
        ("were NGOs able to register", ["ngos", "register"], None, None),
    ],
)
def test_question_scaffolding_is_set_aside(query: str, content: list[str], wants: str | None, report: str | None) -> None:
    q = analyse(query)
    assert [q.words[p].raw for p in q.content] == content
    assert (q.wants, q.report) == (wants, report)


def test_how_many_prefers_a_claim_with_a_figure(vocab_mini: Path) -> None:
    fb = FactBase.load(vocab_mini, use_cache=False)
    top = fb.answer("how many journalists").hits[0]
    assert any(ch.isdigit() for ch in top.claim.claim)


def test_when_prefers_the_most_precisely_dated_claim(vocab_mini: Path) -> None:
    """For "when", a claim dated to the month outweighs one dated to the year, and an undated
    one has nothing to offer."""
    fb = FactBase.load(vocab_mini, use_cache=False)
    s = fb.searcher
    month, year, undated = (fb.store.position_of(i) for i in ("a-pol-01-dvk-banned", "b-cs-03-dvk-banned", "a-med-03-long-text"))
    assert s._wants("date", month) > s._wants("date", year) > s._wants("date", undated) == 0.0
    assert s._wants(None, month) == 0.0


def test_a_typo_of_a_name_never_makes_a_phrase(vocab_mini: Path) -> None:
    """ "Zhanbolat Mamey" is not the phrase "Zhanbolat Mamay": a made-up name is not an answer."""
    fb = FactBase.load(vocab_mini, use_cache=False)
    assert fb.answer("Zhanbolat Mamay").hits
    answer = fb.answer("Zhanbolat Mamey")
    assert all(h.tier != 4 for h in answer.hits)


def test_a_typo_is_read_as_the_reports_word_in_a_phrase(vocab_mini: Path) -> None:
    fb = FactBase.load(vocab_mini, use_cache=False)
    top = fb.answer("jurnalists attacked").hits[0]
    assert top.claim.id == "a-med-02-journalists-attacked"


# -- decades ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "years"),
    [
        ("the 1990s", (1990, 1999)),
        ("the 90s", (1990, 1999)),
        ("early nineties", (1990, 1994)),
        ("late ninetees", (1995, 1999)),  # a typo of a decade word
        ("the 2010s", (2010, 2019)),
        ("the eighties", (1980, 1989)),
    ],
)
def test_decades_in_a_query(query: str, years: tuple[int, int]) -> None:
    assert list(decades(analyse(query).words).values()) == [years]


def test_words_that_are_not_decades() -> None:
    assert decades(analyse("series of cities 1990").words) == {}


def test_a_decade_finds_claims_with_years_in_it(vocab_mini: Path) -> None:
    fb = FactBase.load(vocab_mini, use_cache=False)
    found = {h.claim.id for h in fb.answer("journalists attacked in the 2020s").hits}
    assert "a-med-02-journalists-attacked" in found
    assert not fb.answer("journalists attacked in the 1990s").hits


def test_an_all_but_one_answer_is_labelled_near(run, vocab_mini: Path) -> None:
    """A claim tagged with the person the query names, holding all its words but one common
    word the reports use elsewhere, answers (exit 0) and says which word it lacks."""
    r = run("search", "Mamay detained journalists", "--json", "--facts", str(vocab_mini))
    assert r.exit_code == 0, r.stderr
    top = _json(r)[0]
    assert (top["id"], top["match"], top["lacks"]) == ("b-cs-02-mamay-detained", "near", ["journalists"])


def test_a_word_no_claim_holds_is_never_the_one_an_answer_lacks(run, vocab_mini: Path) -> None:
    r = run("search", "Mamay detained elephants", "--json", "--facts", str(vocab_mini))
    assert r.exit_code == 1
    assert _json(r) == []


# -- the real fact base: words the reports lack, in a long query ----------------------------


@pytest.fixture(scope="module")
def real() -> FactBase:
    return FactBase.load(use_cache=False)


def test_ordinary_russian_words_meet_the_claims_english_words(real: FactBase) -> None:
    """The vocabulary gives the Russian and Kazakh forms of the claims' own words
    (председательство: chairmanship), so a Russian query answers in full."""
    a = real.answer("председательство Казахстана в ОБСЕ 2010")
    assert a.hits and a.hits[0].claim.id == "fpc-intl-04-osce-chairmanship-2010"
    assert a.hits[0].missing == ()


def test_a_name_in_cyrillic_is_not_read_as_a_kazakh_word(real: FactBase) -> None:
    """The name "Санавар" begins like the Kazakh "санақ" (census): spelt as a person's name in the
    reports, it is that name, and with a Russian word it still answers."""
    a = real.answer("Санавар Закирова приговор")
    assert a.hits and a.hits[0].claim.id == "nit-ndg-07-zakirova-sentenced"
    assert a.hits[0].missing == ()


@pytest.mark.parametrize(
    "query",
    [
        "уровень инфляции в Казахстане за 2021 год",  # уровень is no typo of "proven"
        "minimum wage in Kazakhstan 2021",  # "Kazakhstan" does not make the query long
        "инфляция в Казахстане 2021",  # too short to lack a word
        "presidential election Uzbekistan 2021",  # a place the reports name may not be the word lacking
        "выборы президента Узбекистана 2021",  # ... in any script
    ],
)
def test_no_near_answer_from_a_commonplace_word_or_a_false_cognate(real: FactBase, query: str) -> None:
    assert real.answer(query).hits == []


def test_a_clipped_word_is_read_as_the_start_of_a_longer_one(real: FactBase) -> None:
    a = real.answer("tech minister fired")
    assert a.hits and a.hits[0].claim.id == "nit-ndg-04-zhumagaliyev-dismissed"


def test_a_long_query_may_lack_one_word_no_claim_holds(real: FactBase) -> None:
    """Six weighty words or more, all but one held by one claim: the one no claim holds
    ("team", of "team up") is no sign that the reports are silent on the rest."""
    a = real.answer("news sites team up to fact-check official covid fatalities")
    assert a.hits and a.hits[0].claim.id == "nit-im-05-umytpa-kz"
    assert a.hits[0].missing == ("team",)


@pytest.mark.parametrize(
    "query",
    [
        "bitcoin mining farms in Kazakhstan caused power shortages and blackouts",
        "Kazakhstan national football team qualified for the European championship",
        "protesters demanded lower gas prices in Zhanaozen in January 2022",
        "President Tokayev met the Chinese leader to discuss a new railway through Khorgos",
        "the central bank devalued the tenge sharply against the dollar causing panic buying",
    ],
)
def test_a_long_query_the_reports_do_not_answer_stays_unanswered(real: FactBase, query: str) -> None:
    assert real.answer(query).hits == []


def test_need_meets_requires(real: FactBase) -> None:
    found = [h.claim.id for h in real.answer("How many founders does a local religious group need?").hits]
    assert "fpc-rel-03-50-citizens-local" in found


def test_a_description_of_six_weighty_words_or_more_may_lack_two(real: FactBase) -> None:
    """A long description of a claim, two of whose words the claim lacks (each one the
    reports use elsewhere), is a near answer that names them."""
    a = real.answer("a court punished activist Asya Tulesova for knocking a policeman's hat off during a rally")
    assert a.hits and a.hits[0].claim.id == "nit-cs-08-tulesova-hat"
    assert a.hits[0].missing == ("court", "punished")


def test_a_near_answer_lacking_two_words_ranks_below_one_lacking_one(real: FactBase) -> None:
    """Six weighty words: a claim lacking two of them is a near answer, but every claim
    lacking only one ranks above it."""
    hits = real.answer("Tokayev purged ministers who launched an opposition party").hits
    lacking = [len(h.missing) for h in hits]
    assert 2 in lacking and 1 in lacking
    assert lacking == sorted(lacking)
    assert hits[0].claim.id == "fpc-pol-10-tokayev-fired-plotters"


# -- months, Kazakh compound verbs, proper nouns in Cyrillic --------------------------------


@pytest.mark.parametrize(
    ("query", "month"),
    [
        ("What happened to Dariga Nazarbayeva in May 2020?", "2020-05"),  # "may" is no modal verb next to a year
        ("в мае 2020 года", "2020-05"),
        ("protests of October 2020", "2020-10"),
    ],
)
def test_a_month_next_to_a_year_names_the_claims_of_that_month(real: FactBase, query: str, month: str) -> None:
    from kzrights.build import date_keys

    hits = real.answer(query).hits
    assert hits
    for h in hits[:3]:
        record = real.store.claim(real.store.position_of(h.claim.id))
        assert month in date_keys(record, []), (h.claim.id, h.claim.date)


def test_a_kazakh_noun_of_a_compound_verb_means_what_the_verb_does(real: FactBase) -> None:
    """тыйым салу (to ban) is a vocabulary term: тыйым alone (a ban) meets it; Көше is the Koshe
    party the claims name, not the Kazakh word for "street"."""
    hits = real.answer("Көше партиясы тыйым").hits
    assert hits[0].claim.id.endswith("koshe-banned")
    assert all(h.full for h in hits[:3])


def test_a_why_question_prefers_the_claim_that_gives_a_cause(real: FactBase) -> None:
    """Two claims say Bilash was arrested; the one that says on what grounds answers "why"."""
    hits = real.answer("Why was Serikzhan Bilash arrested?").hits
    assert hits[0].claim.id == "fpc-hr-30-bilash-arrest-grounds"
    assert real.answer("Serikzhan Bilash arrested").hits[0].claim.id != "fpc-hr-30-bilash-arrest-grounds"
