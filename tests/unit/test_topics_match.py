"""digest.topic_match (the fast phrase counting behind topic rules) against a plain reference.

The reference spells the rule semantics out the slow way: normalise (NFKD, combining marks of
the stripped blocks dropped, casefold), split into words (runs of letters, digits and "_"),
then walk the words left to right: a run of the phrase's words whose first word may end a longer
word; it counts only when that first word is whole, and is consumed either way.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.model import Story, Topic
from digest.topic_match import PhraseFinder, _fold_complex, count_phrase, fold, phrase_key
from digest.topics import COUNT_CAP, TITLE_FACTOR, assign_topics, explain, parse_rules

_STRIPPED = ((0x300, 0x36F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))


def ref_words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not any(lo <= ord(c) <= hi for lo, hi in _STRIPPED))
    return re.findall(r"\w+", kept.casefold())


def ref_count(key: tuple[str, ...], words: list[str]) -> int:
    count = i = 0
    while i + len(key) <= len(words):
        if words[i].endswith(key[0]) and tuple(words[i + 1:i + len(key)]) == key[1:]:
            count += words[i] == key[0]
            i += len(key)
        else:
            i += 1
    return count


def ref_story_count(key: tuple[str, ...], story: Story) -> int:
    rest = ref_words(story.summary or "") + ref_words(story.body)
    return ref_count(key, rest) + TITLE_FACTOR * ref_count(key, ref_words(story.title))


def ref_topics(story: Story, topics: list[Topic]) -> tuple[str, ...]:
    hits = []
    for topic in sorted(topics, key=lambda t: t.slug):
        rules = topic.rules
        aliases: dict[tuple[str, ...], list[str]] = {}
        for phrase, spellings in rules.aliases:
            aliases.setdefault(phrase_key(phrase), []).extend(spellings)

        def count(phrase: str) -> int:
            keys = {phrase_key(s) for s in (phrase, *aliases.get(phrase_key(phrase), ()))}
            return sum(ref_story_count(k, story) for k in keys)

        if any(count(p) for p in rules.exclude) or (rules.require and not any(count(p) for p in rules.require)):
            continue
        score = round(sum(w * min(count(p), COUNT_CAP) for p, w in rules.phrases), 6)
        if score >= rules.min_score:
            hits.append((-score, topic.slug))
    return tuple(slug for _, slug in sorted(hits))


# Word pieces chosen to collide: prefixes and suffixes of each other, accents written both
# precomposed and decomposed, compatibility forms, non-Latin scripts, marks NFKD reorders.
PIECES = ["a", "ab", "ba", "aba", "japan", "Japan", "japanese", "JAPAN", "x", "hà", "ha", "ha\u0300", "nội",
          "noi", "HÀ NỘI", "中国", "中", "ប្រាក់", "Straße", "strasse", "ǅ", "dž", "ﬁ", "fi", "İ", "i", "_",
          "x_y", "Σ", "ς", "σ", "١٢", "12", "שָׁ", "ש\u05c1\u05b8", "ภู", "ก\u0e39\u0e48", "q\u0323\u0302", "q\u0302\u0323"]
SEPARATORS = [" ", "  ", ", ", "-", "’", "\n", "…", "\u00a0", " — ", "", "'", "\u0301", "!", "\u3000"]

texts = st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), max_size=14).map(
    lambda parts: "".join(p + s for p, s in parts))
phrases = st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).map(" ".join).filter(lambda p: bool(phrase_key(p)))
# A small alphabet, so that runs overlap, repeat and start inside longer words often.
small_texts = st.lists(st.tuples(st.sampled_from(["a", "b", "xa", "ab", "A", "á", "a_"]),
                                 st.sampled_from([" ", " ", "-", "", ", "])), max_size=10).map(
    lambda parts: "".join(p + s for p, s in parts))
small_phrases = st.lists(st.sampled_from(["a", "b", "ab"]), min_size=1, max_size=4).map(" ".join)
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(texts)
def test_fold_gives_the_normalised_words(text):
    assert fold(text).split() == [w.encode() for w in ref_words(text)]


@FAST
@given(texts)
def test_fold_the_slow_way_gives_the_same_words(text):
    assert _fold_complex(text).split() == fold(text).split()


@FAST
@given(st.lists(texts, min_size=1, max_size=3))
def test_fold_of_parts_is_fold_of_their_text(parts):
    assert fold(*parts) == fold("".join(parts))


@FAST
@given(phrases | small_phrases, texts | small_texts)
def test_count_phrase_matches_the_reference(phrase, text):
    key = phrase_key(phrase)
    assert count_phrase(key, fold(text)) == ref_count(key, ref_words(text))


@FAST
@given(st.lists(small_phrases, min_size=1, max_size=4), small_texts, small_texts)
def test_finder_on_overlapping_phrases_like_the_reference(phrase_list, title, rest):
    keys = {phrase_key(p) for p in phrase_list}
    got = PhraseFinder(keys).counts(fold(title), fold(rest))
    want = {k: n for k in keys if (n := ref_count(k, ref_words(rest)) + TITLE_FACTOR * ref_count(k, ref_words(title)))}
    assert got == want


@settings(max_examples=80, deadline=None)
@given(st.lists(phrases, min_size=1, max_size=6), texts, texts)
def test_finder_counts_every_phrase_like_the_reference(phrase_list, title, rest):
    keys = {phrase_key(p) for p in phrase_list}
    got = PhraseFinder(keys).counts(fold(title), fold(rest))
    want = {k: n for k in keys if (n := ref_count(k, ref_words(rest)) + TITLE_FACTOR * ref_count(k, ref_words(title)))}
    assert got == want


rules = st.fixed_dictionaries(
    {"phrases": st.dictionaries(phrases, st.sampled_from([1, 2, 0.5, 3]), min_size=1, max_size=4)},
    optional={"require": st.lists(phrases, min_size=1, max_size=2),
              "exclude": st.lists(phrases, min_size=1, max_size=2),
              "min_score": st.sampled_from([1, 2, 4])},
)


def _topic(slug: str, raw: dict) -> Topic | None:
    keys = [phrase_key(p) for p in raw["phrases"]]
    if len(set(keys)) < len(keys):  # parse_rules rejects two spellings of one phrase
        return None
    raw = dict(raw)
    firsts = list(raw["phrases"])
    raw["aliases"] = {firsts[0]: firsts[1:] + raw.get("require", [])[:1]} if len(firsts) > 1 else {}
    return Topic(slug, slug, f"content/topics/{slug}.md", "", rules=parse_rules(raw, f"content/topics/{slug}.md", 3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(rules, min_size=1, max_size=3), st.lists(st.tuples(texts, texts, st.none() | texts), min_size=1, max_size=3))
def test_assign_topics_and_explain_match_the_reference(raw_rules, raw_stories):
    topics = [t for i, raw in enumerate(raw_rules) if (t := _topic(f"t{i}", raw)) is not None]
    stories = [Story(slug=f"s{i}", title=title, path=f"content/stories/s{i}.md", body=body, summary=summary)
               for i, (title, body, summary) in enumerate(raw_stories)]
    got = assign_topics(stories, topics)
    for story in stories:
        assert got[story.slug] == ref_topics(story, topics)
        explained = {e.topic for e in explain(story, topics) if e.assigned}
        assert explained == set(got[story.slug])


# --------------------------------------------------------------------------- examples


def count(phrase: str, text: str) -> int:
    return count_phrase(phrase_key(phrase), fold(text))


def test_whole_words_only():
    assert count("Japan", "Japan's JAPAN japan, Japanese Tojapan japan_x") == 3
    assert count("grant aid", "grant-aid, grant  aid; grant aids; regrant aid") == 2


def test_runs_do_not_overlap_and_a_run_inside_a_word_is_consumed():
    assert count("a a", "a a a") == 1
    assert count("a a", "a a a a") == 2
    assert count("a a", "xa a a") == 0  # "a a" from inside "xa" hides the whole one after it
    assert count("a b a", "a b a b a") == 1


def test_accents_compatibility_forms_and_other_scripts():
    assert count("Hà Nội", "HA NOI and ha\u0300 no\u0302\u0323i") == 2
    assert count("fi", "ﬁ") == 1 and count("strasse", "Straße") == 1
    assert count("中国", "在中国 中国 。中国") == 2
    assert count("σ", "Σ ς") == 2


def test_marks_that_nfkd_reorders_fold_like_the_whole_text():
    for text in ("q\u0302\u0323 q\u0323\u0302", "ש\u05c1\u05b8 שָׁ", "ก\u0e48\u0e39 ภู"):
        assert fold(text).split() == [w.encode() for w in ref_words(text)]


def test_finder_counts_whole_words_where_one_word_begins_another():
    # The scan takes the longest rule word at each word start: "japanese" must not hide
    # "japan" where "japan" stands alone, nor count "japan" inside "japanese" or "tojapan".
    finder = PhraseFinder([("japan",), ("japanese",), ("aid",), ("japan", "aid")])
    got = finder.counts(fold("Japanese aid"), fold("Japan japan, Japanese tojapan japanesey aid Japan aid"))
    assert got == {("japan",): 3, ("japanese",): 1 + TITLE_FACTOR, ("aid",): 2 + TITLE_FACTOR, ("japan", "aid"): 1}


def test_finder_on_text_without_the_closing_space():
    # fold() pads with spaces; a word at the very end of other bytes is not whole-word evidence
    assert PhraseFinder([("japan",)]).counts(b" japan", b" japan japan") == {("japan",): 1}
