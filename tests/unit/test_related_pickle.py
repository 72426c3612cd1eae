"""The related index as the build cache pickles it: compact, and updated by the next process
exactly as a full computation would be; an index in another shape, or damaged, is recomputed."""

from __future__ import annotations

import dataclasses
import json
import pickle
import random

import numpy as np
import pytest

from digest.related import RelatedIndex
from digest.related_result import related_json, related_json_bytes
from tests.unit.test_related import edit, random_story, snapshot, story


def roundtrip(index: RelatedIndex) -> RelatedIndex:
    return pickle.loads(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))


def json_bytes(index: RelatedIndex) -> bytes:
    return related_json_bytes(index.result())


def expected_json(stories, topics, count) -> bytes:
    related = RelatedIndex(stories, topics, count=count).result()
    return (json.dumps(related_json(related), ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


def through_file(folder, populate=False):
    """A round trip through the build cache's file (arrays mapped copy-on-write, not read; with
    `populate`, their pages read once as the process ahead of a quick rebuild does)."""
    from digest.cache import load_related, save_related

    def trip(index: RelatedIndex) -> RelatedIndex:
        save_related(folder / "state.pickle", index)
        return load_related(folder / "state.pickle", populate=populate)
    return trip


@pytest.mark.parametrize("seed, keep, via", [(seed, keep, via) for seed in range(3) for keep in (6, 60)
                                             for via in ("pickle", "file", "populated")])
def test_pickled_then_updated_equals_full_recomputation(seed, keep, via, monkeypatch, tmp_path):
    """Each step is a build: edit, update, result (sometimes not), pickle, next process unpickles."""
    import digest.related as related

    roundtrip_ = roundtrip if via == "pickle" else through_file(tmp_path, populate=via == "populated")

    monkeypatch.setattr(related, "CANDIDATES", keep)
    monkeypatch.setattr(related, "TOP_TERMS", 12)
    monkeypatch.setattr(related, "BLOCK", 7)
    rng = random.Random(100 + seed)
    stories = [random_story(rng, i) for i in range(50)]
    topics = {s.slug: tuple(rng.sample(["x", "y", "z"], rng.randint(0, 1))) for s in stories}
    index = RelatedIndex(stories, topics, count=2)
    index.result()
    partial = 0
    for step in range(14):
        index = roundtrip_(index)
        for _ in range(rng.randint(1, 2)):
            k = rng.randrange(len(stories))
            stories[k] = edit(rng, stories[k])
        if rng.random() < 0.2:
            topics[stories[rng.randrange(len(stories))].slug] = ("y",)
        partial += len(index.update(stories, topics)) < len(stories)
        if step % 5 == 4:  # a build whose result is not read before the save
            continue
        assert snapshot(index) == snapshot(RelatedIndex(stories, topics, count=2))
        assert json_bytes(index) == expected_json(stories, topics, 2)
    assert partial > 0


def test_pickle_holds_no_objects_per_story():
    """Docs, candidates and the last result are kept as arrays and flat lists: the pickle names
    none of the per-story classes (unpickling thousands of those was most of the load time)."""
    rng = random.Random(2)
    stories = [random_story(rng, i) for i in range(40)]
    index = RelatedIndex(stories, {}, count=3)
    index.result()
    data = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
    for name in (b"_Doc", b"_Candidates", b"RelatedLink", b"datetime", b"frozenset"):
        assert name not in data, name


def test_unpickled_result_is_kept_and_reused():
    """In the next process the first result() equals the last one; lists that no update touched
    are the same objects from call to call (views reuse relies on it)."""
    rng = random.Random(4)
    stories = [random_story(rng, i) for i in range(40)]
    index = RelatedIndex(stories, {}, count=3)
    before = index.result()
    index = roundtrip(index)
    first = index.result()
    assert snapshot(index)[:2] == (
        {k: tuple((l.slug, l.score, l.reasons, l.pinned) for l in v) for k, v in before.links.items()}, dict(before.groups))
    second = index.result()
    assert all(second.links[s] is first.links[s] for s in first.links)
    stories[3] = edit(rng, stories[3])
    index.update(stories, {})
    third = index.result()
    kept = [s for s in first.links if third.links[s] is first.links[s]]
    assert len(kept) > len(stories) // 2
    assert snapshot(index) == snapshot(RelatedIndex(stories, {}, count=3))


def _damaged_states(index: RelatedIndex):
    state = index.__getstate__()
    yield "old format", {k: v for k, v in state.items() if k != "format"}
    yield "other keys", dict(state, keys_version=-1)
    yield "short docs", dict(state, docs=dict(state["docs"], text=state["docs"]["text"][:-1]))
    yield "bad label ids", dict(state, docs=dict(state["docs"], sets=dict(
        state["docs"]["sets"], tags=(state["docs"]["sets"]["tags"][0], np.full(3, 10**6, dtype=np.int32)))))
    ptr, score, cos, other, truncated = state["cands"]
    yield "short candidates", dict(state, cands=(ptr, score, cos, other[:-1], truncated))
    yield "candidate out of range", dict(state, cands=(ptr, score, cos, other + 1000, truncated))
    yield "short terms", dict(state, t_ptr=state["t_ptr"][:-1])
    yield "short results", dict(state, results=dict(state["results"], links=state["results"]["links"][:-2]))
    yield "missing part", {k: v for k, v in state.items() if k != "cands"}
    yield "an older digest's index", {"count": 3, "docs": {}, "cands": {}, "slugs": index.slugs}


DAMAGE = ["old format", "other keys", "short docs", "bad label ids", "short candidates", "candidate out of range",
          "short terms", "short results", "missing part", "an older digest's index"]


@pytest.mark.parametrize("case", DAMAGE)
def test_old_or_damaged_pickle_gives_a_full_recomputation(case):
    rng = random.Random(1)
    stories = [random_story(rng, i) for i in range(30)]
    index = RelatedIndex(stories, {}, count=3)
    index.result()
    state = dict(_damaged_states(index))[case]
    loaded = RelatedIndex.__new__(RelatedIndex)
    loaded.__setstate__(state)
    loaded = roundtrip(loaded)  # what is kept of a damaged index pickles and loads too
    stories[4] = edit(rng, stories[4])
    assert loaded.update(stories, {}) == {s.slug for s in stories}  # recomputed in full, no crash
    assert snapshot(loaded) == snapshot(RelatedIndex(stories, {}, count=3))


@pytest.mark.parametrize("pickled", [False, True])
def test_a_members_new_outlet_ends_its_group(pickled):
    """The outlet does not change any score, only the group links of the stories that list the
    edited one: those are found again (in this process, and after a pickle)."""
    import dataclasses

    from tests.unit.test_related import TEXTS, story

    text = TEXTS["sea"] + " " + TEXTS["shoal"]
    stories = [story("post", text, days=0, source="Phnom Penh Post"),
               story("inquirer", text + " Officials spoke on Monday.", days=1, source="Inquirer"), story("aid")]
    index = RelatedIndex(stories, {}, count=3)
    assert index.result().groups["post"] == ("inquirer",)
    if pickled:
        index = roundtrip(index)
    stories[1] = dataclasses.replace(stories[1], source="Phnom Penh Post")
    index.update(stories, {})
    assert dict(index.result().groups) == {}


def test_stamps_spare_the_text_digest_and_changes_still_count(monkeypatch):
    """With stamps (e.g. the file hashes of the build cache), the next process digests only the
    stories whose stamp changed; dates, tags and the like are still compared; the result equals
    a full computation."""
    import dataclasses
    import hashlib

    import digest.related as related

    def stamps_of(stories):
        return {s.slug: hashlib.blake2b(repr((s.title, s.summary, s.body)).encode()).hexdigest() for s in stories}

    rng = random.Random(8)
    stories = [random_story(rng, i) for i in range(40)]
    index = RelatedIndex(stories, {}, count=3)
    index.update(stories, {}, stamps_of(stories))
    index.result()
    calls = []
    real = related.text_key
    monkeypatch.setattr(related, "text_key", lambda story: calls.append(story.slug) or real(story))
    for step in range(6):
        index = roundtrip(index)
        k = rng.randrange(len(stories))
        stories[k] = edit(rng, stories[k])
        if step % 2:
            stories[k + 1 if k + 1 < len(stories) else 0] = dataclasses.replace(
                stories[k - 1], slug=stories[k + 1 if k + 1 < len(stories) else 0].slug)  # new texts, same slug
        stamps = stamps_of(stories)
        before = dict(zip(index.slugs, index.stamps))
        calls.clear()
        index.update(stories, {}, stamps)
        assert sorted(calls) == sorted(slug for slug in stamps if stamps[slug] != before[slug])
        assert snapshot(index) == snapshot(RelatedIndex(stories, {}, count=3))


def test_stamps_given_to_a_new_index_spare_the_first_update(monkeypatch):
    """A first build makes the index with the stamps at hand, so the next build's update (another
    process) digests only the story that changed, not all of them once."""
    import digest.related as related

    rng = random.Random(9)
    stories = [random_story(rng, i) for i in range(30)]
    stamps = {s.slug: f"stamp-{s.slug}" for s in stories}
    index = roundtrip(RelatedIndex(stories, {}, count=3, stamps=stamps))
    calls = []
    real = related.text_key
    monkeypatch.setattr(related, "text_key", lambda story: calls.append(story.slug) or real(story))
    stories[7] = edit(rng, stories[7])
    index.update(stories, {}, {**stamps, stories[7].slug: "edited"})
    assert calls == [stories[7].slug]
    assert snapshot(index) == snapshot(RelatedIndex(stories, {}, count=3))


def test_a_mapped_index_changed_in_place_leaves_its_file_as_it_was(tmp_path):
    """The arrays of a loaded index are the file's pages mapped copy-on-write: an update writes
    private copies, and the file still holds the saved index."""
    from digest.cache import load_related, save_related

    rng = random.Random(6)
    stories = [random_story(rng, i) for i in range(40)]
    save_related(tmp_path / "state.pickle", RelatedIndex(stories, {}, count=3))
    saved = (tmp_path / "state.related").read_bytes()
    index = load_related(tmp_path / "state.pickle")
    assert index.t_cols.flags.writeable and not index.t_cols.flags.owndata  # a view of the mapping
    before = snapshot(index)
    stories[3] = edit(rng, stories[3])
    index.update(stories, {})
    assert snapshot(index) != before
    assert (tmp_path / "state.related").read_bytes() == saved
    assert snapshot(load_related(tmp_path / "state.pickle")) == before


def test_a_damaged_index_file_is_ignored(tmp_path):
    from digest.cache import load_related, save_related

    rng = random.Random(7)
    save_related(tmp_path / "state.pickle", RelatedIndex([random_story(rng, i) for i in range(10)], {}, count=3))
    data = (tmp_path / "state.related").read_bytes()
    for damaged in (b"", data[:40], b"x" + data[1:], data[:-3]):
        (tmp_path / "state.related").write_bytes(damaged)
        assert load_related(tmp_path / "state.pickle") is None


def test_updating_the_drifted_stories_equals_a_full_update():
    """`update_some` with the stories whose stamp `drifted` (what a quick rebuild does) gives the
    index a full `update` gives."""
    rng = random.Random(8)
    stories = [random_story(rng, i) for i in range(50)]
    stamps = {s.slug: "v0" for s in stories}
    index = RelatedIndex(stories, {}, count=3, stamps=stamps)
    index.result()
    index = roundtrip(index)
    for k in (4, 17, 30):
        stories[k] = edit(rng, stories[k])
        stamps[stories[k].slug] = "v1"
    drifted = index.drifted(stamps)
    assert sorted(drifted) == sorted(stories[k].slug for k in (4, 17, 30))
    index.update_some([s for s in stories if s.slug in drifted], {}, stamps)
    assert index.drifted(stamps) == []
    assert snapshot(index) == snapshot(RelatedIndex(stories, {}, count=3))
    assert index.drifted({**stamps, "unknown": "v0"}) is None


def test_document_frequency_saved_narrow_still_counts_past_its_largest_value(tmp_path):
    """df is saved in the smallest type that holds N (not its largest value): at 300 stories none
    of whose terms is in more than 255, an edit that adds a term to a 256th story counts 256."""
    def text(i: int, shared: bool) -> str:
        return f"{'shared ' if shared else ''}alpha{i % 255} word{i} other{i}"

    stories = [story(f"s{i:03d}", text(i, i < 255), days=i % 50) for i in range(300)]
    index = RelatedIndex(stories, {}, count=3)
    index.result()
    assert int(index.df.max()) == 255  # "shared", in the first 255 stories only
    stories[255] = story("s255", text(255, True), days=255 % 50)
    index = through_file(tmp_path)(index)
    index.update(stories, {})
    assert snapshot(index) == snapshot(RelatedIndex(stories, {}, count=3))


def test_new_terms_of_an_edit_take_spare_columns_in_place(tmp_path):
    """The columns saved with the index leave room: an edit's new terms are written in place
    (growing the arrays would copy every column) and then saved again with the rest."""
    rng = random.Random(5)
    stories = [random_story(rng, i) for i in range(30)]
    index = through_file(tmp_path)(RelatedIndex(stories, {}, count=3))
    keys, df = index.col_keys, index.df
    stories[3] = dataclasses.replace(stories[3], body=stories[3].body + " zebra quagga okapi")
    index.update_some([stories[3]], {}, {})
    assert index.col_keys is keys and index.df is df  # not copied
    assert snapshot(index) == snapshot(RelatedIndex(stories, {}, count=3))
    again = through_file(tmp_path)(index)
    assert again.n_cols == index.n_cols and snapshot(again) == snapshot(index)


def test_new_terms_past_the_spare_columns_grow_the_arrays(tmp_path, monkeypatch):
    import digest.related as related

    monkeypatch.setattr(related, "_reserve", lambda columns: 2)  # fewer spare columns than an edit brings
    rng = random.Random(6)
    stories = [random_story(rng, i) for i in range(30)]
    index = through_file(tmp_path)(RelatedIndex(stories, {}, count=3))
    size = len(index.col_keys)
    for k, words in ((3, "zebra quagga okapi"), (4, "narwhal dugong"), (3, "zebra tapir")):
        stories[k] = dataclasses.replace(stories[k], body=stories[k].body + " " + words)
        index.update_some([stories[k]], {}, {})
        assert snapshot(index) == snapshot(RelatedIndex(stories, {}, count=3))
    assert len(index.col_keys) > size and index.n_cols <= len(index.col_keys) == len(index.df)
    assert snapshot(through_file(tmp_path)(index)) == snapshot(index)
