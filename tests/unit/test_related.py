"""Related stories: ranking, threshold, pins, groups, related.json, and incremental == full."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.model import Story
from digest.related import RelatedIndex, compute_related
from digest.related_result import Related, related_json

DAY0 = datetime(2024, 3, 1, tzinfo=timezone.utc)

TEXTS = {
    "sea": "Chinese coast guard ships fired water cannon at a Philippine supply boat near Second Thomas Shoal "
           "in the South China Sea, Manila said. The Philippines protested to Beijing over the maritime incident.",
    "shoal": "The Philippines accused China of dangerous manoeuvres at Second Thomas Shoal in the South China Sea, "
             "where a Chinese coast guard ship used water cannon against a supply boat.",
    "asean": "ASEAN foreign ministers discussed the South China Sea code of conduct with China and urged restraint "
             "after incidents between Chinese and Philippine vessels.",
    "aid": "Japan pledged new official development assistance loans to Cambodia through JICA for roads, "
           "bridges and the port of Sihanoukville.",
    "jica": "JICA signed loans with Cambodia for the Sihanoukville port and for rural roads, Japan's largest "
            "development assistance package this year.",
    "cricket": "The cricket team won the test match by six wickets after a century from the opening batsman "
               "on a dry pitch in the final session.",
}


def story(slug: str, text: str | None = None, days: int = 0, **kw) -> Story:
    text = TEXTS[slug] if text is None else text
    title = kw.pop("title", text.split(",")[0][:60])
    return Story(slug=slug, title=title, path=f"content/stories/{slug}.md", body=text,
                 date=DAY0 + timedelta(days=days), **kw)


def slugs(related: Related, slug: str) -> list[str]:
    return [link.slug for link in related.links[slug]]


def test_ranks_by_text_and_never_fills_with_unrelated():
    stories = [story(s, days=i) for i, s in enumerate(TEXTS)]
    rel = compute_related(stories, {}, count=5)
    assert slugs(rel, "sea")[0] == "shoal"
    assert "asean" in slugs(rel, "sea")
    assert slugs(rel, "aid")[0] == "jica"
    assert slugs(rel, "cricket") == []  # nothing shares its words: empty, not filled
    assert "cricket" not in slugs(rel, "sea") and "sea" not in slugs(rel, "aid")


def test_reasons_name_what_is_shared():
    stories = [story("sea"), story("shoal", days=1)]
    [link] = compute_related(stories, {}, count=5).links["sea"]
    assert "South China Sea" in link.reasons and "Second Thomas Shoal" in link.reasons


def test_pins_first_unrelated_excluded_unknown_pins_warned():
    stories = [story(s, days=i) for i, s in enumerate(TEXTS)]
    stories[0] = dataclasses.replace(stories[0], related=("cricket", "ghost"), unrelated=("shoal",))
    rel = compute_related(stories, {}, count=3)
    got = rel.links["sea"]
    assert got[0].slug == "cricket" and got[0].pinned
    assert "shoal" not in [link.slug for link in got]
    assert len(got) <= 3
    assert rel.warnings == ("sea: related story 'ghost' is not among the built stories; left out",)


def test_topics_and_tags_raise_a_pair():
    base = [story(s, days=i) for i, s in enumerate(TEXTS)]
    plain = compute_related(base, {}, count=5)
    topics = {"sea": ("china-asean",), "asean": ("china-asean",)}
    with_topics = compute_related(base, topics, count=5)
    score = lambda r: {l.slug: l.score for l in r.links["sea"]}["asean"]  # noqa: E731
    assert score(with_topics) > score(plain)
    tagged = [dataclasses.replace(s, tags=("maritime",)) if s.slug in ("sea", "asean") else s for s in base]
    assert score(compute_related(tagged, {}, count=5)) > score(plain)


def test_ties_broken_by_slug_and_output_deterministic():
    text = "Vietnam and Laos signed a rail agreement in Vientiane on Monday."
    stories = [story(s, text, days=0, source=f"Outlet {s}") for s in ("c", "a", "b", "d")]
    rel = compute_related(stories, {}, count=5)
    assert slugs(rel, "d") == ["a", "b", "c"]
    assert related_json(rel) == related_json(compute_related(list(reversed(stories)), {}, count=5))


def test_same_event_groups_need_close_dates_and_different_outlets():
    text = TEXTS["sea"] + " " + TEXTS["shoal"]
    stories = [
        story("post", text, days=0, source="Phnom Penh Post"),
        story("inquirer", text + " Officials spoke on Monday.", days=1, source="Inquirer"),
        story("later", text, days=40, source="Nikkei"),  # same words, another month: not the same event
        story("aid"),
    ]
    rel = compute_related(stories, {}, count=5)
    assert rel.groups["post"] == ("inquirer",)
    assert rel.groups["inquirer"][0] == "post"
    assert "later" not in rel.groups
    assert "aid" not in rel.groups
    out = related_json(rel)
    assert out["post"][0] == "inquirer"  # the group first, then the other related stories
    assert len(out["post"]) == len(set(out["post"]))
    same_outlet = [story("post", text, source="Phnom Penh Post"), story("again", text + " More.", source="Phnom Penh Post")]
    assert compute_related(same_outlet, {}, count=5).groups == {}


def test_related_json_lists_every_story_group_first():
    stories = [story(s, days=i) for i, s in enumerate(TEXTS)]
    out = related_json(compute_related(stories, {}, count=5))
    assert sorted(out) == sorted(TEXTS)
    assert out["cricket"] == []


# --------------------------------------------------------------------------- incremental == full

WORDS = ("port loan aid china japan asean cambodia vietnam sea shoal coast guard rail road trade tariff summit "
         "minister visit pledge fund water power grid solar election court rice flood storm bank").split()


def random_story(rng: random.Random, i: int) -> Story:
    words = rng.sample(WORDS, 8)
    body = " ".join(rng.choice(words) for _ in range(rng.randint(20, 60)))
    tags = tuple(rng.sample(["maritime", "aid", "trade", "energy"], rng.randint(0, 2)))
    return Story(slug=f"s{i:03d}", title=" ".join(rng.sample(words, 4)), path=f"s{i}.md", body=body,
                 date=DAY0 + timedelta(days=rng.randint(0, 60)), source=rng.choice(["A", "B", "C"]), tags=tags,
                 related=(f"s{rng.randrange(i + 1):03d}",) if rng.random() < 0.1 else ())


def edit(rng: random.Random, s: Story) -> Story:
    roll = rng.random()
    if roll < 0.4:
        return dataclasses.replace(s, body=s.body + " " + " ".join(rng.choices(WORDS, k=rng.randint(1, 8))))
    if roll < 0.6:
        return dataclasses.replace(s, body=" ".join(s.body.split()[: rng.randint(1, 10)]))
    if roll < 0.7:
        return dataclasses.replace(s, title=s.title + f" unique{rng.randrange(1000)}")
    if roll < 0.8:
        return dataclasses.replace(s, date=(s.date or DAY0) + timedelta(days=rng.randint(-20, 20)))
    if roll < 0.85:
        return dataclasses.replace(s, tags=tuple(rng.sample(["maritime", "aid", "trade"], rng.randint(0, 2))))
    if roll < 0.88:
        return dataclasses.replace(s, source=rng.choice(["A", "B", "C", "D"]))
    if roll < 0.91:
        return dataclasses.replace(s, related=(f"s{rng.randrange(50):03d}",) if rng.random() < 0.7 else ())
    if roll < 0.94:
        return dataclasses.replace(s, unrelated=(f"s{rng.randrange(50):03d}",) if rng.random() < 0.7 else ())
    return dataclasses.replace(s, body=" ".join(rng.choices(WORDS, k=30)))


def snapshot(index: RelatedIndex):
    result = index.result()
    return ({k: tuple((l.slug, l.score, l.reasons, l.pinned) for l in v) for k, v in result.links.items()},
            dict(result.groups), {k: c.items for k, c in index.cands.items()})


@pytest.mark.parametrize("seed, keep", [(seed, keep) for seed in range(4) for keep in (6, 60)])
def test_incremental_update_equals_full_recomputation(seed, keep, monkeypatch):
    import digest.related as related

    # 6: lists truncated (more candidates than kept); 60: complete lists. Both merge paths run.
    monkeypatch.setattr(related, "CANDIDATES", keep)
    monkeypatch.setattr(related, "TOP_TERMS", 12)  # pruning on: exercise "enters / leaves the top terms"
    monkeypatch.setattr(related, "BLOCK", 7)
    rng = random.Random(seed)
    stories = [random_story(rng, i) for i in range(50)]
    topics = {s.slug: tuple(rng.sample(["x", "y", "z"], rng.randint(0, 1))) for s in stories}
    index = RelatedIndex(stories, topics, count=2)
    partial = 0
    for step in range(16):
        k = rng.randrange(len(stories))
        stories[k] = edit(rng, stories[k])
        recomputed = index.update(stories, topics)
        partial += len(recomputed) < len(stories)
        if step % 4 == 3:  # several updates between two results: result() keeps up with all of them
            continue
        assert snapshot(index) == snapshot(RelatedIndex(stories, topics, count=2))
    assert partial > 0  # the updates were incremental, not full recomputations in disguise


def test_update_without_change_recomputes_nothing_and_new_story_is_full():
    rng = random.Random(9)
    stories = [random_story(rng, i) for i in range(20)]
    index = RelatedIndex(stories, {}, count=3)
    assert index.update(stories, {}) == set()
    stories.append(random_story(rng, 20))
    assert len(index.update(stories, {})) == 21
    assert snapshot(index) == snapshot(RelatedIndex(stories, {}, count=3))


def test_forked_workers_give_the_same_result(monkeypatch):
    import digest.related as related

    monkeypatch.setattr(related, "PARALLEL_MIN", 10)
    rng = random.Random(3)
    stories = [random_story(rng, i) for i in range(120)]
    one = RelatedIndex(stories, {}, count=4, workers=1)
    two = RelatedIndex(stories, {}, count=4, workers=2)
    assert snapshot(one) == snapshot(two)
    assert snapshot(RelatedIndex(stories, {}, count=4, workers=3)) == snapshot(one)  # two forked spans, in order
    stories[5] = edit(rng, stories[5])
    two.update(stories, {})  # hashes computed here must match the forks' ones
    assert snapshot(two) == snapshot(RelatedIndex(stories, {}, count=4))


def test_passes_done_a_chunk_at_a_time_give_the_same_index(monkeypatch):
    import numpy as np

    import digest.related as related

    def arrays(index: RelatedIndex) -> list:
        x = index.X
        return [index.t_cols, index.kth, x.indptr, x.indices, x.data]

    rng = random.Random(5)
    stories = [random_story(rng, i) for i in range(80)]
    whole = RelatedIndex(stories, {}, count=3)
    monkeypatch.setattr(related, "CHUNK", 13)  # many chunks, rows cut unevenly between them
    chunked = RelatedIndex(stories, {}, count=3)
    assert all(np.array_equal(a, b) for a, b in zip(arrays(whole), arrays(chunked)))
    assert snapshot(chunked) == snapshot(whole)
    for k in (3, 40, 41):  # an update's rows (not consecutive) in chunks too
        stories[k] = dataclasses.replace(stories[k], body=stories[k].body + " tariff summit rail")
    chunked.update(stories, {})
    monkeypatch.setattr(related, "CHUNK", 1 << 16)
    fresh = RelatedIndex(stories, {}, count=3)
    assert all(np.array_equal(a, b) for a, b in zip(arrays(chunked), arrays(fresh)))
    assert snapshot(chunked) == snapshot(fresh)


# --------------------------------------------------------------------------- stable term keys

TRICKY = [
    "Café « Élysée » naïve coöperation: ﬁnance ministers’ talks — Phnom Penh’s port, 3rd_quarter",
    "ASEAN\u00a0summit; Việt Nam & Thái Lan sign rice-trade pact (MOU) at 10:30 in Hà Nội",
    "ប្រទេសកម្ពុជា និង ជប៉ុន Japan aid ＪＩＣＡ loans ﬀ Ⅸ straße STRASSE ǅemal",
    "",
    "a an the of I x 7 _ __ mr. Mr MR",
    "coast—guard talks in Hà Nội–Hải Phòng; the—of a—Japan ﬁsh—ﬁsh—port «Quad»—ASEAN—",
]


def hashed_story_terms(story_: Story) -> dict[int, int]:
    """The reference: `story_terms` (strings), each term turned into its stable key."""
    import numpy as np

    from digest.related_terms import bigram_keys, story_terms, word_key

    out: dict[int, int] = {}
    for term, n in story_terms(story_).items():
        words = term.split(" ")
        key = word_key(term) if len(words) == 1 else int(
            bigram_keys(np.array([word_key(words[0])], dtype=np.int64), np.array([word_key(words[1])], dtype=np.int64))[0])
        out[key] = out.get(key, 0) + n
    return out


@pytest.mark.parametrize("title_weight, summary_weight", [(3, 1), (2, 2)])
def test_term_keys_equal_the_hashed_terms_of_story_terms(title_weight, summary_weight, monkeypatch):
    import digest.related_terms as related

    monkeypatch.setattr(related, "TITLE_WEIGHT", title_weight)
    monkeypatch.setattr(related, "SUMMARY_WEIGHT", summary_weight)
    for i, body in enumerate(TRICKY):
        for title in TRICKY:
            s = Story(slug=f"t{i}", title=title, path="x.md", body=body * 3, summary=TRICKY[(i + 1) % len(TRICKY)])
            keys, tf = related.story_term_keys(s)
            assert dict(zip(keys.tolist(), tf.tolist())) == hashed_story_terms(s), (title, body)
    assert related.story_term_keys(Story(slug="e", title="", path="e.md", body=""))[0].size == 0


def test_term_keys_do_not_depend_on_the_process():
    import subprocess
    import sys

    code = ("from digest.related_terms import word_key, story_term_keys; from digest.model import Story; "
            "print(word_key('asean'), story_term_keys(Story(slug='a', title='Japan aid', path='a.md', "
            "body='Loans to Cambodia’s ports.'))[0].tolist())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": ""}, cwd=str(__import__("pathlib").Path(__file__).parents[2])).stdout
            for seed in ("1", "2", "3")}
    assert len(outs) == 1 and outs.pop().strip()


def test_index_pickled_by_another_process_is_updated_not_rebuilt(tmp_path):
    """`digest build` pickles the index; the next build (another process, other str hashes)
    updates it after an edit, and the result equals a full computation."""
    import pickle
    import subprocess
    import sys
    from pathlib import Path

    rng = random.Random(5)
    stories = [random_story(rng, i) for i in range(60)]
    (tmp_path / "stories.pickle").write_bytes(pickle.dumps(stories))
    make = ("import pickle, sys; from digest.related import RelatedIndex; "
            "s = pickle.load(open(sys.argv[1], 'rb')); "
            "open(sys.argv[2], 'wb').write(pickle.dumps(RelatedIndex(s, {}, count=3)))")
    root = str(Path(__file__).parents[2])
    subprocess.run([sys.executable, "-c", make, str(tmp_path / "stories.pickle"), str(tmp_path / "index.pickle")],
                   check=True, cwd=root, env={"PYTHONHASHSEED": "11", "PATH": ""})
    index = pickle.loads((tmp_path / "index.pickle").read_bytes())  # this process: another hash seed
    stories[7] = dataclasses.replace(stories[7], title=stories[7].title + " zanzibar")  # a new word
    recomputed = index.update(stories, {})
    assert 0 < len(recomputed) < len(stories)  # an update, not a rebuild
    assert snapshot(index) == snapshot(RelatedIndex(stories, {}, count=3))


def _links(related: Related) -> dict:
    return {k: tuple((l.slug, l.score, l.reasons, l.pinned) for l in v) for k, v in related.links.items()}


def test_results_after_updates_follow_a_pinned_storys_tags_and_a_group_members_date():
    """result() recomputes only what updates changed: a pinned story outside the candidates and
    a group whose members' links stay the same but whose order (by date) changes still follow."""
    text = TEXTS["sea"] + " " + TEXTS["shoal"]
    stories = [story(s, days=i) for i, s in enumerate(TEXTS)]
    stories[0] = dataclasses.replace(stories[0], related=("cricket",), tags=("maritime",))
    stories += [story("post", text, days=10, source="Phnom Penh Post"),
                story("inquirer", text + " Officials spoke on Monday.", days=11, source="Inquirer"),
                story("kyodo", text + " Tokyo watched.", days=12, source="Kyodo")]
    index = RelatedIndex(stories, {}, count=3)
    first = index.result()
    assert first.links["sea"][0].slug == "cricket" and first.links["sea"][0].reasons == ()
    assert first.groups["kyodo"] == ("post", "inquirer")

    stories[5] = dataclasses.replace(stories[5], tags=("maritime",))  # the pinned cricket story now shares a tag
    index.update(stories, {})
    assert index.result().links["sea"][0].reasons == ("maritime",)

    stories[6] = dataclasses.replace(stories[6], date=DAY0 + timedelta(days=13))  # post now after inquirer
    index.update(stories, {})
    again = index.result()
    assert again.groups["kyodo"] == ("inquirer", "post")
    full = RelatedIndex(stories, {}, count=3).result()
    assert _links(again) == _links(full) and dict(again.groups) == dict(full.groups)


@given(st.dictionaries(st.text(min_size=1), st.lists(st.text(), max_size=4), max_size=6))
def test_related_json_bytes_equal_json_dumps(data):
    """related.json is written entry by entry (entries kept per process): the bytes json.dumps gives."""
    from types import MappingProxyType

    from digest.related_result import RelatedLink, related_json_bytes

    links = {slug: tuple(RelatedLink(other, 0.5) for other in dict.fromkeys(others) if other != slug)
             for slug, others in data.items()}
    related = Related(MappingProxyType(links), MappingProxyType({}))
    expected = json.dumps(related_json(related), ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    assert related_json_bytes(related) == expected.encode("utf-8")


def test_a_story_seen_before_a_full_recomputation_is_read_again_after_it():
    """serve passes the same story objects again and again, and update skips a story whose objects
    it saw last time; a full recomputation (a story added) must reset that memory, or going back to
    an earlier version of a story would go unnoticed."""
    rng = random.Random(5)
    stories = [random_story(rng, i) for i in range(30)]
    index = RelatedIndex(stories, {}, count=3)
    first = stories[4]
    second = dataclasses.replace(first, title="An entirely different title", body="Unrelated words " * 20)
    index.update(stories, {})
    index.result()
    grown = stories[:4] + [second] + stories[5:] + [random_story(rng, 30)]
    index.update(grown, {})  # a new story: every idf changes, a full recomputation with `second`
    index.result()
    back = stories[:4] + [first] + stories[5:] + grown[-1:]
    index.update(back, {})
    assert snapshot(index) == snapshot(RelatedIndex(back, {}, count=3))


def test_input_keys_are_what_the_index_read_of_each_story():
    """`input_keys` (what the page store notes the index read) equals `input_key` of the stories
    and topics it was given, after a full computation and after updates that change texts and topics."""
    from digest.related_input import input_key

    rng = random.Random(11)
    stories = [random_story(rng, i) for i in range(40)]
    topics = {s.slug: ("japan-aid",) if i % 3 == 0 else () for i, s in enumerate(stories)}
    index = RelatedIndex(stories, topics, count=4)
    assert index.input_keys() == {s.slug: input_key(s, topics.get(s.slug, ())) for s in stories}
    for step in range(6):
        at = rng.randrange(len(stories))
        stories[at] = edit(rng, stories[at])
        if step % 2:
            topics[stories[at].slug] = ("china-asean",)
        index.update(stories, topics)
        assert index.input_keys() == {s.slug: input_key(s, topics.get(s.slug, ())) for s in stories}


def test_features_packed_by_forked_workers_equal_each_storys_own(monkeypatch):
    import numpy as np

    from digest import related
    from digest.related import _all_features, _all_features_packed, _features_span, _packed_features_span
    from digest.related_input import text_key

    monkeypatch.setattr(related, "PARALLEL_MIN", 1)  # forked however few the stories
    rng = random.Random(11)
    stories = [random_story(rng, i) for i in range(7)]
    stories[3] = dataclasses.replace(stories[3], title="", summary=None, body="")  # no terms at all
    want = _features_span(stories, 0, 7)
    texts_wanted = [text_key(story) for story in stories]
    for workers in (1, 2, 3):  # this process alone, then with one and two forked workers
        lengths, keys, tf, names, texts = _all_features_packed(stories, workers)
        assert lengths.tolist() == [len(k) for k, _, _ in want] and lengths[3] == 0
        assert np.array_equal(keys, np.concatenate([k for k, _, _ in want]))
        assert np.array_equal(tf, np.concatenate([t for _, t, _ in want]))
        assert names == [n for _, _, n in want] and texts == texts_wanted
        got, texts = _all_features(stories, workers)
        assert texts == texts_wanted and len(got) == 7
        for (k, t, n), (k2, t2, n2) in zip(got, want):
            assert np.array_equal(k, k2) and np.array_equal(t, t2) and n == n2
    [empty] = _packed_features_span(stories, 4, 4)
    assert [len(part) for part in empty] == [0, 0, 0, 0, 0]
