"""The SQLite store (issue #18): it ranks exactly as the compiled data in memory does, a
limited query over common words ranks exactly as scoring every claim would, a typo's
candidates hold every word within the cut-off, and an edit patches the store to what a
full build would write."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kzrights import build, load, search
from kzrights.factbase import FactBase
from kzrights.store import DictStore, SqliteStore, loads, unpack, unseal

from .conftest import MINI, ROOT, SHARED

EXTRA = [
    "Nazarbaeyv",
    "Tulesova",
    "party registration",
    "Kazakhstan",
    "parlimentary oposition",
    "journalist",
    "how many journalists were attacked",
    "when was Mamai detained",
    "who was arrested in 2020",
    "Назарбаев",
    "свобода слова",
    "сөз бостандығы",
    "1990s protests",
    "Zhanbolat Mamey",
    "registraton of parties",
    "Sagintayev",
    "Elshibekov",
    "protest",
    "government",
    "freedom",
    "opposition activists",
    "police detained protesters",
    "Vladimir Kozlov released",
    "nit-cs-08-tulesova-sentence",
]


def dev_queries() -> tuple[list[str], list[str]]:
    """The dev query sets' searches and people (../shared/queries), and some more."""
    import yaml

    searches: list[str] = []
    people: list[str] = []
    for name in ("dev.yaml", "natural.yaml"):
        path = SHARED / "queries" / name
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for kind in ("search", "both", "topical"):
                searches += [e["q"] for e in data.get(kind) or [] if isinstance(e, dict) and "q" in e]
            people += [e["q"] for e in data.get("person") or [] if isinstance(e, dict) and "q" in e]
    if not searches:
        pytest.skip("../shared is absent: the dev query sets are needed for this check")
    return list(dict.fromkeys(searches + EXTRA)), people


def shown(answer: Any) -> Any:
    def hit(h: Any) -> Any:
        return (h.claim.id, h.tier, h.score, tuple(h.match) if h.match else None, h.missing)

    return [hit(h) for h in answer.hits], [hit(h) for h in answer.partial], answer.total, answer.missing, answer.suggestions


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[FactBase, FactBase]:
    """The real fact base compiled in memory, and through the SQLite store."""
    cache = tmp_path_factory.mktemp("store-cache")
    old = os.environ.get("KZRIGHTS_CACHE_DIR")
    os.environ["KZRIGHTS_CACHE_DIR"] = str(cache)
    try:
        sql = FactBase.load(ROOT / "facts")
        root = load.find_facts_dir(ROOT / "facts")
        raw = load.read_fact_base(root, load.list_fact_files(root)[0])
        raw.pop("units")
        data = load.compile_fact_base(raw)
        data["root"] = str(root)
    finally:
        if old is None:
            del os.environ["KZRIGHTS_CACHE_DIR"]
        else:
            os.environ["KZRIGHTS_CACHE_DIR"] = old
    assert isinstance(sql.store, SqliteStore)
    return FactBase(DictStore(data)), sql


def test_the_sqlite_store_ranks_as_the_data_in_memory(real: tuple[FactBase, FactBase]) -> None:
    """Every search of the dev query sets (and typos, Cyrillic, questions, an id): the same
    claims, order, tiers, scores and matches, whichever store answers."""
    memory, sql = real
    searches, people = dev_queries()
    for q in searches:
        assert shown(sql.answer(q, limit=None)) == shown(memory.answer(q, limit=None)), q
    for q in people:
        assert sql.resolve(q, ("person",)) == memory.resolve(q, ("person",)), q


@pytest.mark.parametrize(("limit", "sparse"), [(1, 20_000), (3, 20_000), (10, 20_000), (3, 0), (10, 0)])
def test_ranking_by_classes_is_exact(
    real: tuple[FactBase, FactBase], monkeypatch: pytest.MonkeyPatch, limit: int, sparse: int
) -> None:
    """With the threshold at 0 every limited query over the real base that qualifies is
    ranked by classes (``_Bulk``): the answer is the one of scoring every claim (also when
    every class is taken as sparse and computed whole)."""
    _, sql = real
    searches, _ = dev_queries()
    monkeypatch.setattr(search, "SPARSE_SCAN", sparse)
    used = []
    real_rank = search._Bulk.rank

    def counted(self: Any) -> Any:
        used.append(1)
        return real_rank(self)

    for q in searches:
        monkeypatch.setattr(search, "BULK", 10**9)
        every = shown(sql.answer(q, limit=limit))
        monkeypatch.setattr(search, "BULK", 0)
        monkeypatch.setattr(search._Bulk, "rank", counted)
        assert shown(sql.answer(q, limit=limit)) == every, q
        monkeypatch.setattr(search._Bulk, "rank", real_rank)
    assert len(used) >= len(searches) // 3  # the queries of one to three words were ranked by classes


@pytest.mark.parametrize("query", ["Kazakhstan", "government", "torture"])
def test_an_uncounted_search_ranks_the_same_and_says_it_did_not_count(
    real: tuple[FactBase, FactBase], monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """Output that shows no count (JSON, CSV ...) asks for none: a one-word query ranked by
    classes gives the same answers, marked uncounted; a counted one gives the exact count."""
    _, sql = real
    monkeypatch.setattr(search, "BULK", 0)
    counted = sql.answer(query, limit=3)
    uncounted = sql.answer(query, limit=3, count=False)
    assert shown(uncounted)[:2] == shown(counted)[:2]
    assert counted.counted and not uncounted.counted
    monkeypatch.setattr(search, "BULK", 10**9)
    assert sql.answer(query, limit=None).total == counted.total > 3


def test_typo_candidates_hold_every_word_within_the_cut_off(real: tuple[FactBase, FactBase]) -> None:
    """The bigram index proposes a superset of what a scan of the vocabulary with the same
    cut-off finds (``bigram_floor`` is a bound, not a guess)."""
    from rapidfuzz import fuzz, process

    memory, sql = real
    vocab = memory.store.typo_candidates("")
    words = vocab[:: max(len(vocab) // 300, 1)]
    for w in words:
        for typo in {w[1:], w[:-1], w[:2] + "x" + w[3:], w[::-1][:2][::-1] + w[2:], w + "s"}:
            if len(typo) < search.FUZZY_MIN_LEN:
                continue
            cutoff = 80 if len(typo) >= 8 else 83
            scanned = [c for c, _, _ in process.extract(typo, vocab, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)]
            assert set(scanned) <= set(sql.store.typo_candidates(typo)), typo


def test_a_query_reads_the_store_read_only(real: tuple[FactBase, FactBase]) -> None:
    _, sql = real
    assert isinstance(sql.store, SqliteStore)
    with pytest.raises(sqlite3.OperationalError):
        sql.store._conn.execute("CREATE TABLE x (y)")


# --------------------------------------------------------------------------- an edit


def canonical(path: Path) -> dict[str, Any]:
    """Everything a store holds, with positions replaced by claim ids (an edit gives the
    claims it rewrites new positions)."""
    c = sqlite3.connect(path)
    ids = dict(c.execute("SELECT pos, id FROM claims"))

    def claims(blob: bytes) -> list[str]:
        return sorted(ids[p] for p in unpack(unseal(blob)))

    out: dict[str, Any] = {
        "claims": sorted((*r[2:10], loads(r[11])) for r in c.execute("SELECT * FROM claims")),
        "order": [i for (i,) in c.execute("SELECT id FROM claims ORDER BY ord")],
        "postings": sorted((k, w, claims(b)) for k, w, _, b in c.execute("SELECT * FROM postings")),
        "terms": sorted((k, claims(b)) for k, b in c.execute("SELECT * FROM terms")),
        "stems": sorted((k, claims(b)) for k, b in c.execute("SELECT * FROM stems")),
        "tags": sorted((k, n, claims(b)) for k, n, b in c.execute("SELECT * FROM tags")),
        "groups": sorted((ci, f, claims(b)) for ci, _, f, b in c.execute("SELECT * FROM concept_groups")),
        "meta": sorted((k, v) for k, v, _ in c.execute("SELECT * FROM meta") if k not in ("fingerprint", "ordered")),
    }
    for table in ("vocab", "vgrams", "words", "cased", "forms", "fkeys", "fgrams", "concept_kk", "partials", "entities"):
        out[table] = sorted(c.execute(f"SELECT * FROM {table}"))
    c.close()
    return out


def edit(facts: Path, rel: str, old: str, new: str) -> None:
    path = facts / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


EDITS = [
    # a claim's text: new words, one of them a proper noun, a shorter text
    ("claims/rep-a/politics.yaml", "tried to found a party", "founded the Quokkaland party"),
    # a date (its year is held as a word), a new link to a claim of another file
    (
        "claims/rep-a/politics.yaml",
        '    date: "2018-03"\n',
        '    date: "2019-03"\n    related:\n      - id: b-cs-02-mamay-detained\n        kind: complements\n',
    ),
    # a claim gone
    ("claims/rep-b/civil-society.yaml", "  - id: b-cs-03-dvk-banned\n", "  - id: b-cs-03-dvk-banned-again\n"),
    # the first words a file writes, written otherwise
    ("claims/rep-a/media-freedom.yaml", "ranks", "RANKS"),
]


def test_an_edit_patches_the_store_to_what_a_full_build_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _own_cache: Path
) -> None:
    facts = tmp_path / "facts"
    shutil.copytree(MINI, facts)
    FactBase.load(facts)
    name = load.store_name(load.find_facts_dir(facts))
    patched = []
    real_patch = build.patch_store

    def spy(*args: Any, **kw: Any) -> bool:
        patched.append(real_patch(*args, **kw))
        return patched[-1]

    monkeypatch.setattr(build, "patch_store", spy)
    fresh = tmp_path / "fresh"
    for i, (rel, old, new) in enumerate(EDITS):
        edit(facts, rel, old, new)
        fb = FactBase.load(facts)
        assert patched[-1] is True, f"edit {i} was not patched"
        monkeypatch.setenv("KZRIGHTS_CACHE_DIR", str(fresh / str(i)))
        full = FactBase.load(facts, use_cache=False)
        monkeypatch.setenv("KZRIGHTS_CACHE_DIR", str(_own_cache))
        assert canonical(_own_cache / name) == canonical(fresh / str(i) / name), f"after edit {i}"
        for q in ("Quokkaland", "party", "2019", "Mamai", "ranks", "DVK"):
            assert shown(fb.answer(q)) == shown(full.answer(q)), (i, q)


def test_an_edit_of_an_entity_file_writes_the_store_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    facts = tmp_path / "facts"
    shutil.copytree(MINI, facts)
    FactBase.load(facts)
    patched = []
    real_patch = build.patch_store
    monkeypatch.setattr(build, "patch_store", lambda *a, **k: patched.append(real_patch(*a, **k)) or patched[-1])
    edit(facts, "people.yaml", "name: Olzhas Abishev", "name: Olzhas Abishov")
    assert FactBase.load(facts).resolve("Olzhas Abishov", ("person",)).form == "Olzhas Abishov"
    assert patched == [False]


def test_damage_met_while_answering_has_the_store_rebuilt(run: Any, tmp_path: Path, _own_cache: Path) -> None:
    """The open checks pass (header, size, meta rows), but a claim's record is damaged: the
    store is rebuilt with one warning line and the answer comes from the rebuilt one."""
    facts = tmp_path / "facts"
    shutil.copytree(MINI, facts)
    assert run("show", "a-pol-03-mamai-party", "--facts", str(facts)).exit_code == 0
    (f,) = _own_cache.glob("factbase-*.sqlite")
    data = bytearray(f.read_bytes())
    i = data.find(b"tried to found")
    while i >= 0:  # the record, the normalised text, the fragments: every copy
        data[i] ^= 0x20  # t -> T
        i = data.find(b"tried to found", i + 1)
    f.write_bytes(bytes(data))
    r = run("show", "a-pol-03-mamai-party", "--facts", str(facts))
    assert r.exit_code == 0, r.stderr
    assert "tried to found a party" in r.stdout
    assert r.stderr == f"kzrights: warning: the cache file {f.name} is damaged (its checksum does not match); rebuilding it\n"
    assert run("search", "Mamai", "--json", "--facts", str(facts)).stderr == ""


def test_a_postings_size_is_read_without_its_postings(real: tuple[FactBase, FactBase]) -> None:
    from kzrights.text import fold_word

    for fb in real:
        store = fb.searcher.store
        for word in ("Kazakhstan", "torture", "Tulesova", "no-such-word"):
            key = fold_word(word.lower())
            assert store.posting_size(key) == len(store.posting(key)[1])


# -- concepts held by a claim's text, or only by its lay terms ------------------------------


def test_a_concept_held_only_by_lay_terms_is_marked_as_such() -> None:
    topics = [["press", "Press freedom", [], None, [], []]]
    vocabulary = [{"id": "detention", "en": ["detained", "locked up"], "ru": ["задержан"]}]
    m = build.Matcher.build(topics, vocabulary)
    ci = m.ids.index("detention")
    from kzrights.lang import english_stem

    def stems(text: str) -> list[str]:
        return [english_stem(w) for w in text.split()]

    in_text = m.match(stems("the activist was detained"), stems("| locked up"))
    assert [ci, 0] in in_text and build.concept_form(m.terms, [ci, 0]) == "detained"
    in_lay = m.match(stems("the activist was held"), stems("| locked up"))
    assert [ci, 1, 1] in in_lay and build.concept_form(m.terms, [ci, 1, 1]) == "terms locked up"


def test_a_claim_that_says_a_translated_phrase_outranks_one_whose_lay_terms_do() -> None:
    """'консолидированный авторитарный режим' is a term of the concept of authoritarian rule:
    the claim whose text says "Consolidated Authoritarian Regime" ranks first, above a claim
    that holds the concept only through its lay terms."""
    fb = FactBase.load(use_cache=False)
    hits = fb.answer("консолидированный авторитарный режим").hits
    assert hits[0].claim.id in {"nit-scores-01-status", "nit-ndg-02-consolidated-authoritarian"}
    assert hits[0].match is not None and hits[0].match.field == "claim"


# -- the fact base's subject: a word one claim in five holds --------------------------------

SUBJECT_QUERIES = ["Kazakhstan torture", "Kazakhstan press freedom", "elections in Kazakhstan 2021", "Kazakhstan Soviet 1925"]


@pytest.mark.parametrize("query", SUBJECT_QUERIES)
def test_a_claim_lacking_the_subject_word_still_answers_and_both_rankings_agree(
    real: tuple[FactBase, FactBase], monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """ "Kazakhstan" is what the reports are about: a claim holding the query's other words
    answers without saying it, ranked below those that do; ranking by classes and scoring
    every claim give the same answers and count."""
    _, sql = real
    monkeypatch.setattr(search, "BULK", 10**9)
    every = sql.answer(query, limit=5)
    monkeypatch.setattr(search, "BULK", 0)
    by_classes = sql.answer(query, limit=5)
    assert shown(by_classes) == shown(every)
    assert by_classes.total == every.total
    assert every.hits and all(h.full for h in every.hits)


def test_a_query_of_the_subject_word_alone_needs_it() -> None:
    fb = FactBase.load(use_cache=False)
    answer = fb.answer("Kazakhstan", limit=None)
    assert answer.total < fb.store.n  # only the claims that say it
    assert fb.answer("Soviet 1925").hits[0].claim.id == fb.answer("Kazakhstan Soviet 1925").hits[0].claim.id
