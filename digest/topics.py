"""Topic rules: parse a topic's `match:` front matter, assign topics to stories, explain scores.

A topic file may carry matching rules in its front matter::

    match:
      phrases:                      # phrase -> weight (a list means weight 1 each)
        Japan: 2
        JICA: 3
        official development assistance: 3
      require: [Japan]              # at least one must appear (optional)
      exclude: [Japan Airlines]     # any one present: the topic does not apply (optional)
      aliases:                      # other spellings that count as the phrase (optional)
        China: [PRC, Beijing, Chinese]
      min_score: 4                  # default 1; not allowed without phrases

`require` and `exclude` may also be a single string. An alias key must be one of the topic's
phrases (in `phrases`, `require` or `exclude`); its spellings count as that phrase everywhere.

Matching is case- and accent-insensitive and on whole words: text and phrases are normalised
(Unicode NFKD, combining marks dropped, casefold) and split into words (runs of letters and
digits), so "Japan" matches "JAPAN" and "Japan's" but not "Japanese", and "Hà Nội" matches
"Ha Noi". A phrase's count is the number of times it or one of its aliases occurs in the story's
title, summary and body, without overlaps (counting is in digest.topic_match, which says exactly
how); occurrences in the title count twice. Each phrase scores
``weight * min(count, 3)``, so a text that repeats one word cannot reach the minimum on that
word alone. A topic applies to a story when no `exclude` phrase occurs, at least one `require`
phrase occurs (when there are any), and the score reaches `min_score`.

Automatic topics are computed at every build (`assign_topics`); a story's front-matter `topics`
always wins, and `topics: []` means "none, on purpose".
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from digest.errors import ContentError, Problem
from digest.model import Story, Topic, TopicRules
from digest.topic_match import TITLE_FACTOR, PhraseFinder, count_phrase, fold, normalise, phrase_key, words

__all__ = ["COUNT_CAP", "TITLE_FACTOR", "RuleScore", "TopicExplanation", "assign_topics", "explain",
           "normalise", "parse_rules", "phrase_key", "words"]

COUNT_CAP = 3  # occurrences of one phrase that score, at most

_KEYS = ("phrases", "require", "exclude", "aliases", "min_score")


# --------------------------------------------------------------------------- parsing


def _fail(path: str, line: int, message: str) -> ContentError:
    return ContentError(Problem(path, line, message))


def _phrase(value: Any, where: str, path: str, line: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, line, f"{where}: expected a phrase (a non-empty string), got {value!r}")
    if not phrase_key(value):
        raise _fail(path, line, f"{where}: phrase {value!r} has no letters or digits")
    return value.strip()


def _phrase_list(value: Any, where: str, path: str, line: int) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _fail(path, line, f"{where}: expected a phrase or a list of phrases, got {type(value).__name__}")
    return tuple(_phrase(item, where, path, line) for item in value)


def _number(value: Any, where: str, path: str, line: int) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(path, line, f"{where}: expected a number, got {value!r}")
    return float(value)


def parse_rules(raw: Any, path: str, line: int) -> TopicRules:
    """Check and convert a topic's `match:` front-matter value into `TopicRules`.

    `line` is the line of the `match:` key; every problem is raised as a ContentError
    `path:line: match.<key>: ...` naming the bad key.
    """
    if not isinstance(raw, Mapping):
        raise _fail(path, line, f"match: expected a mapping with keys {', '.join(_KEYS)}, got {type(raw).__name__}")
    for key in raw:
        if key not in _KEYS:
            raise _fail(path, line, f"match: unknown key {key!r} (expected one of: {', '.join(_KEYS)})")
    phrases: list[tuple[str, float]] = []
    raw_phrases = raw.get("phrases", {})
    if isinstance(raw_phrases, list):
        raw_phrases = {_phrase(p, "match.phrases", path, line): 1 for p in raw_phrases}
    if not isinstance(raw_phrases, Mapping):
        raise _fail(path, line, f"match.phrases: expected a mapping of phrase to weight, got {type(raw_phrases).__name__}")
    seen: dict[tuple[str, ...], str] = {}
    for phrase, weight in raw_phrases.items():
        phrase = _phrase(phrase, "match.phrases", path, line)
        weight = _number(weight, f"match.phrases: weight of {phrase!r}", path, line)
        key = phrase_key(phrase)
        if key in seen:
            raise _fail(path, line, f"match.phrases: {phrase!r} is the same phrase as {seen[key]!r}")
        seen[key] = phrase
        phrases.append((phrase, weight))
    require = _phrase_list(raw.get("require", []), "match.require", path, line)
    exclude = _phrase_list(raw.get("exclude", []), "match.exclude", path, line)
    raw_aliases = raw.get("aliases", {})
    if not isinstance(raw_aliases, Mapping):
        raise _fail(path, line, f"match.aliases: expected a mapping of phrase to other spellings, got {type(raw_aliases).__name__}")
    known = {phrase_key(p) for p, _ in phrases} | {phrase_key(p) for p in require + exclude}
    aliases: list[tuple[str, tuple[str, ...]]] = []
    for phrase, spellings in raw_aliases.items():
        phrase = _phrase(phrase, "match.aliases", path, line)
        if phrase_key(phrase) not in known:
            raise _fail(path, line, f"match.aliases: {phrase!r} is not a phrase of this topic (in phrases, require or exclude)")
        aliases.append((phrase, _phrase_list(spellings, f"match.aliases: {phrase!r}", path, line)))
    if not phrases and not require:
        raise _fail(path, line, "match: needs phrases or require (or both)")
    if not phrases:
        if "min_score" in raw:
            raise _fail(path, line, "match.min_score: a topic without phrases has no score; remove min_score or add phrases")
        min_score = 0.0  # require alone: the topic applies whenever a required phrase occurs
    else:
        min_score = _number(raw.get("min_score", 1), "match.min_score", path, line)
        if min_score <= 0:
            raise _fail(path, line, f"match.min_score: must be greater than 0, got {raw.get('min_score')!r}")
    return TopicRules(
        phrases=tuple(phrases),
        require=require,
        exclude=exclude,
        aliases=tuple(aliases),
        min_score=min_score,
    )


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class RuleScore:
    """One rule's part of a topic score for one story."""

    kind: str  # "phrase", "require" or "exclude"
    phrase: str
    count: int  # occurrences of the phrase and its aliases (title occurrences count double)
    weight: float  # 0 for require/exclude
    points: float  # weight * min(count, COUNT_CAP) for phrases, 0 otherwise
    spellings: tuple[tuple[str, int], ...] = ()  # (spelling as written in the rule, count), found ones only


@dataclass(frozen=True)
class TopicExplanation:
    """How one topic's rules scored one story, and whether the story gets the topic."""

    topic: str
    title: str
    score: float
    min_score: float | None  # None: the topic has no rules
    matches: bool  # the rules alone would give the story this topic
    assigned: bool  # the story has this topic (front matter wins over the rules)
    reason: str
    rules: tuple[RuleScore, ...] = ()


@dataclass(frozen=True)
class _Compiled:
    slug: str
    rules: TopicRules
    # per rule: (kind, phrase, weight, ((spelling, key), ...))
    entries: tuple[tuple[str, str, float, tuple[tuple[str, tuple[str, ...]], ...]], ...]


def _compile(topic: Topic) -> _Compiled:
    rules = topic.rules or TopicRules()
    alias_map: dict[tuple[str, ...], list[str]] = {}
    for phrase, spellings in rules.aliases:
        alias_map.setdefault(phrase_key(phrase), []).extend(spellings)

    def spellings(phrase: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        out: dict[tuple[str, ...], str] = {}
        for spelling in (phrase, *alias_map.get(phrase_key(phrase), ())):
            key = phrase_key(spelling)
            if key and key not in out:
                out[key] = spelling
        return tuple((s, k) for k, s in out.items())

    entries = [("phrase", p, w, spellings(p)) for p, w in rules.phrases]
    entries += [("require", p, 0.0, spellings(p)) for p in rules.require]
    entries += [("exclude", p, 0.0, spellings(p)) for p in rules.exclude]
    return _Compiled(topic.slug, rules, tuple(entries))


def _folded(story: Story) -> tuple[bytes, bytes]:
    """A story's (title, summary and body) folded for counting (see digest.topic_match.fold)."""
    return fold(story.title), fold(story.summary or "", "\n", story.body)


def _score(compiled: _Compiled, title: bytes, rest: bytes) -> tuple[float, bool, str, tuple[RuleScore, ...]]:
    """(score, matches, reason, rule scores) of one topic against one story's folded text."""
    counts: dict[tuple[str, ...], int] = {}
    rule_scores: list[RuleScore] = []
    score = 0.0
    required_found = False
    excluded_by: str | None = None
    for kind, phrase, weight, spellings in compiled.entries:
        found = []
        for spelling, key in spellings:
            if key not in counts:
                counts[key] = count_phrase(key, rest) + TITLE_FACTOR * count_phrase(key, title)
            if counts[key]:
                found.append((spelling, counts[key]))
        count = sum(n for _, n in found)
        points = weight * min(count, COUNT_CAP) if kind == "phrase" else 0.0
        score += points
        if kind == "require" and count:
            required_found = True
        if kind == "exclude" and count and excluded_by is None:
            excluded_by = phrase
        rule_scores.append(RuleScore(kind, phrase, count, weight, points, tuple(found)))
    rules = compiled.rules
    score = round(score, 6)
    if excluded_by is not None:
        return score, False, f"excluded by {excluded_by!r}", tuple(rule_scores)
    if rules.require and not required_found:
        return score, False, "no required phrase", tuple(rule_scores)
    if score < rules.min_score:
        return score, False, f"score {score:g} below minimum {rules.min_score:g}", tuple(rule_scores)
    return score, True, f"score {score:g} reaches minimum {rules.min_score:g}", tuple(rule_scores)


class _Matcher:
    """All topics' phrases in one PhraseFinder, so that each story's text is scanned once."""

    def __init__(self, compiled: Sequence[_Compiled]) -> None:
        # per topic: (slug, min_score, phrases [(weight, keys)], require [keys], exclude [keys], all keys)
        self.topics: list[tuple[str, float, list, list, list, frozenset]] = []
        for c in compiled:
            parts: dict[str, list] = {"phrase": [], "require": [], "exclude": []}
            for kind, _, weight, spellings in c.entries:
                keys = tuple(key for _, key in spellings)
                parts[kind].append((weight, keys) if kind == "phrase" else keys)
            all_keys = frozenset(key for _, _, _, spellings in c.entries for _, key in spellings)
            self.topics.append((c.slug, c.rules.min_score, parts["phrase"], parts["require"], parts["exclude"], all_keys))
        self.finder = PhraseFinder(key for *_, all_keys in self.topics for key in all_keys)

    def topics_of(self, story: Story) -> tuple[str, ...]:
        """The slugs of the topics whose rules match `story`, best score first, ties by slug."""
        counts = self.finder.counts(*_folded(story))
        if not counts:
            return ()
        hits: list[tuple[float, str]] = []
        for slug, min_score, phrases, require, exclude, all_keys in self.topics:
            if all_keys.isdisjoint(counts) or _present(exclude, counts):
                continue
            if require and not _present(require, counts):
                continue
            score = 0.0
            for weight, keys in phrases:
                count = 0
                for key in keys:
                    count += counts.get(key, 0)
                if count:
                    score += weight * (count if count < COUNT_CAP else COUNT_CAP)
            score = round(score, 6)
            if score >= min_score:
                hits.append((-score, slug))
        return tuple(slug for _, slug in sorted(hits))


def _present(rules: list[tuple[tuple[str, ...], ...]], counts: Mapping[tuple[str, ...], int]) -> bool:
    for keys in rules:
        for key in keys:
            if key in counts:
                return True
    return False


def rules_key(topics: Iterable[Topic], stamp_of: Callable[[str], str]) -> str:
    """A key of the topics' rules: their slugs and the hashes of their files (`stamp_of(path)`).
    Assignments made under one key hold while it is the same."""
    return hashlib.blake2b(repr([(t.slug, stamp_of(t.path)) for t in topics]).encode(), digest_size=16).hexdigest()


def assign_topics(stories: Iterable[Story], topics: Iterable[Topic]) -> dict[str, tuple[str, ...]]:
    """Story slug -> its topic slugs.

    Front-matter `topics` win as written (`()` means none, on purpose); a story without them
    gets every topic whose rules match, best score first, ties by slug. Topics without rules
    are never assigned automatically.
    """
    assign = topic_assigner(topics)
    return {story.slug: assign(story) for story in stories}


def topic_assigner(topics: Iterable[Topic]) -> Callable[[Story], tuple[str, ...]]:
    """`assign_topics` of one story at a time, under these topics (their rules compiled once)."""
    compiled = [_compile(t) for t in sorted(topics, key=lambda t: t.slug) if t.rules is not None]
    matcher = _Matcher(compiled)

    def assign(story: Story) -> tuple[str, ...]:
        if story.topics is not None:
            return tuple(story.topics)
        return matcher.topics_of(story) if compiled else ()

    return assign


def explain(story: Story, topics: Iterable[Topic]) -> list[TopicExplanation]:
    """Per topic (in slug order), the score of each rule for `story` and whether it gets the topic."""
    title, rest = _folded(story)
    explicit = None if story.topics is None else set(story.topics)
    out: list[TopicExplanation] = []
    for topic in sorted(topics, key=lambda t: t.slug):
        if topic.rules is None:
            score, matches, reason, rule_scores, min_score = 0.0, False, "no rules", (), None
        else:
            score, matches, reason, rule_scores = _score(_compile(topic), title, rest)
            min_score = topic.rules.min_score
        if explicit is None:
            assigned = matches
        else:
            assigned = topic.slug in explicit
            reason = ("listed" if assigned else "not listed") + f" in the story's front matter topics (rules: {reason})"
        out.append(TopicExplanation(topic.slug, topic.title, score, min_score, matches, assigned, reason, rule_scores))
    return out
