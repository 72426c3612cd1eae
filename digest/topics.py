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
title, summary and body; occurrences in the title count twice. Each phrase scores
``weight * min(count, 3)``, so a text that repeats one word cannot reach the minimum on that
word alone. A topic applies to a story when no `exclude` phrase occurs, at least one `require`
phrase occurs (when there are any), and the score reaches `min_score`.

Automatic topics are computed at every build (`assign_topics`); a story's front-matter `topics`
always wins, and `topics: []` means "none, on purpose".
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from digest.errors import ContentError, Problem
from digest.model import Story, Topic, TopicRules

COUNT_CAP = 3  # occurrences of one phrase that score, at most
TITLE_FACTOR = 2  # an occurrence in the title counts this many times

_KEYS = ("phrases", "require", "exclude", "aliases", "min_score")
_WORD = re.compile(r"\w+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


# --------------------------------------------------------------------------- normalising


# Characters common in news text whose NFKD form differs, replaced beforehand (by their NFKD
# form) so that NFKD's quick check passes and it returns without rebuilding the string.
_PRE_NFKD = (("\u00a0", " "), ("\u2026", "..."), ("\u202f", " "), ("\u2009", " "), ("\u3000", " "))
# UTF-8 lead bytes of the combining-mark blocks stripped by _COMBINING.
_COMBINING_BYTES = (b"\xcc", b"\xcd", b"\xe1\xaa", b"\xe1\xab", b"\xe1\xb7", b"\xe2\x83", b"\xef\xb8")


def normalise(text: str) -> str:
    """Text folded for matching: NFKD, combining diacritical marks dropped, casefolded.

    Fast in the common case: a few cheap replacements let NFKD's quick check pass on typical
    news text, and the combining-mark pass runs only on text that has some.
    """
    if text.isascii():
        return text.lower()
    for char, nfkd in _PRE_NFKD:
        if char in text:
            text = text.replace(char, nfkd)
    folded = unicodedata.normalize("NFKD", text)
    if not folded.isascii():
        data = folded.encode()
        if any(lead in data for lead in _COMBINING_BYTES):
            folded = _COMBINING.sub("", folded)
    return folded.casefold()


def words(text: str) -> list[str]:
    """The normalised words of `text` (runs of letters and digits)."""
    return _WORD.findall(normalise(text))


def phrase_key(phrase: str) -> tuple[str, ...]:
    """The words a phrase matches, in order (empty when the phrase has no letters or digits)."""
    return tuple(words(phrase))


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
    # per rule: (kind, phrase, weight, ((spelling, key, pattern), ...))
    entries: tuple[tuple[str, str, float, tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...]], ...]


def _compile(topic: Topic) -> _Compiled:
    rules = topic.rules or TopicRules()
    alias_map: dict[tuple[str, ...], list[str]] = {}
    for phrase, spellings in rules.aliases:
        alias_map.setdefault(phrase_key(phrase), []).extend(spellings)

    def spellings(phrase: str) -> tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...]:
        out: dict[tuple[str, ...], str] = {}
        for spelling in (phrase, *alias_map.get(phrase_key(phrase), ())):
            key = phrase_key(spelling)
            if key and key not in out:
                out[key] = spelling
        return tuple((s, k, _pattern(k)) for k, s in out.items())

    entries = [("phrase", p, w, spellings(p)) for p, w in rules.phrases]
    entries += [("require", p, 0.0, spellings(p)) for p in rules.require]
    entries += [("exclude", p, 0.0, spellings(p)) for p in rules.exclude]
    return _Compiled(topic.slug, rules, tuple(entries))


@functools.lru_cache(maxsize=4096)
def _pattern(key: tuple[str, ...]) -> re.Pattern[str]:
    return _phrase_pattern(key)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _phrase_pattern(key: tuple[str, ...]) -> re.Pattern[str]:
    # Starts with a literal so that the regex engine can skip ahead fast; the left word
    # boundary is checked by `_Text.count` (a look-behind here would make the scan 50x slower).
    return re.compile(r"\W+".join(re.escape(word) for word in key) + r"(?!\w)")


class _Text:
    """A story's normalised text, for fast whole-word phrase counting."""

    def __init__(self, story: Story) -> None:
        self.title = normalise(story.title)
        self.rest = normalise(story.summary or "") + "\n" + normalise(story.body)
        self._cache: dict[tuple[str, ...], int] = {}

    def count(self, key: tuple[str, ...], pattern: re.Pattern[str] | None = None) -> int:
        """Occurrences of the phrase `key` (title ones counted TITLE_FACTOR times)."""
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        n = 0
        word = max(key, key=len)
        in_title, in_rest = word in self.title, word in self.rest
        if in_title or in_rest:
            pattern = pattern or _phrase_pattern(key)
            if in_rest:
                n += _count(pattern, self.rest)
            if in_title:
                n += TITLE_FACTOR * _count(pattern, self.title)
        self._cache[key] = n
        return n


def _count(pattern: re.Pattern[str], text: str) -> int:
    n = 0
    for match in pattern.finditer(text):
        start = match.start()
        if start == 0 or not _is_word_char(text[start - 1]):
            n += 1
    return n


def _score(compiled: _Compiled, text: _Text, detail: bool = True) -> tuple[float, bool, str, tuple[RuleScore, ...]]:
    """(score, matches, reason, rule scores) of one topic against one text (no rule scores unless `detail`)."""
    rule_scores: list[RuleScore] = []
    score = 0.0
    required_found = False
    excluded_by: str | None = None
    for kind, phrase, weight, spellings in compiled.entries:
        if detail:
            found = tuple((s, n) for s, k, pat in spellings if (n := text.count(k, pat)))
            count = sum(n for _, n in found)
        else:
            count = sum(text.count(k, pat) for _, k, pat in spellings)
        points = weight * min(count, COUNT_CAP) if kind == "phrase" else 0.0
        score += points
        if kind == "require" and count:
            required_found = True
        if kind == "exclude" and count and excluded_by is None:
            excluded_by = phrase
        if detail:
            rule_scores.append(RuleScore(kind, phrase, count, weight, points, found))
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
    """All topics' phrases, indexed by their longest word, to count each phrase once per story."""

    def __init__(self, compiled: Sequence[_Compiled]) -> None:
        self.first_words: dict[str, list[tuple[tuple[str, ...], re.Pattern[str]]]] = {}
        # per topic: (slug, min_score, phrases [(weight, keys)], require [keys], exclude [keys], all keys)
        self.topics: list[tuple[str, float, list, list, list, frozenset]] = []
        for c in compiled:
            parts: dict[str, list] = {"phrase": [], "require": [], "exclude": []}
            all_keys = set()
            for kind, _, weight, spellings in c.entries:
                keys = tuple(key for _, key, _ in spellings)
                parts[kind].append((weight, keys) if kind == "phrase" else keys)
                for _, key, pattern in spellings:
                    all_keys.add(key)
                    bucket = self.first_words.setdefault(max(key, key=len), [])
                    if all(k != key for k, _ in bucket):
                        bucket.append((key, pattern))
            self.topics.append((c.slug, c.rules.min_score, parts["phrase"], parts["require"], parts["exclude"], frozenset(all_keys)))
        self.first_word_items = tuple(self.first_words.items())

    def topics_of(self, story: Story) -> tuple[str, ...]:
        """The slugs of the topics whose rules match `story`, best score first, ties by slug."""
        title = normalise(story.title)
        rest = normalise(story.summary or "") + "\n" + normalise(story.body)
        counts: dict[tuple[str, ...], int] = {}
        both = title + "\n" + rest
        for word, keys in self.first_word_items:
            if word in both:  # substring pre-filter on the phrase's longest word, verified below
                in_title, in_rest = word in title, word in rest
                for key, pattern in keys:
                    n = (_count(pattern, rest) if in_rest else 0) + (TITLE_FACTOR * _count(pattern, title) if in_title else 0)
                    if n:
                        counts[key] = n
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


def assign_topics(stories: Iterable[Story], topics: Iterable[Topic]) -> dict[str, tuple[str, ...]]:
    """Story slug -> its topic slugs.

    Front-matter `topics` win as written (`()` means none, on purpose); a story without them
    gets every topic whose rules match, best score first, ties by slug. Topics without rules
    are never assigned automatically.
    """
    compiled = [_compile(t) for t in sorted(topics, key=lambda t: t.slug) if t.rules is not None]
    matcher = _Matcher(compiled)
    out: dict[str, tuple[str, ...]] = {}
    for story in stories:
        if story.topics is not None:
            out[story.slug] = tuple(story.topics)
        elif compiled:
            out[story.slug] = matcher.topics_of(story)
        else:
            out[story.slug] = ()
    return out


def explain(story: Story, topics: Iterable[Topic]) -> list[TopicExplanation]:
    """Per topic (in slug order), the score of each rule for `story` and whether it gets the topic."""
    text = _Text(story)
    explicit = None if story.topics is None else set(story.topics)
    out: list[TopicExplanation] = []
    for topic in sorted(topics, key=lambda t: t.slug):
        if topic.rules is None:
            score, matches, reason, rule_scores, min_score = 0.0, False, "no rules", (), None
        else:
            score, matches, reason, rule_scores = _score(_compile(topic), text)
            min_score = topic.rules.min_score
        if explicit is None:
            assigned = matches
        else:
            assigned = topic.slug in explicit
            reason = ("listed" if assigned else "not listed") + f" in the story's front matter topics (rules: {reason})"
        out.append(TopicExplanation(topic.slug, topic.title, score, min_score, matches, assigned, reason, rule_scores))
    return out
