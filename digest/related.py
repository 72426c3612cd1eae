"""Related stories and same-story groups: TF-IDF text similarity combined with topics, tags and time.

How a story's related list is made (`compute_related`):

1. Terms: words of two or more letters or digits (lowercased, accents folded, English stop words
   dropped) and the bigrams of adjacent kept words, from the title
   (counted TITLE_WEIGHT times), the summary (SUMMARY_WEIGHT) and the first BODY_CHARS
   characters of the body. Weight: sublinear tf ``1 + ln(tf)`` times smooth idf
   ``ln((1 + N) / (1 + df)) + 1``. Terms found in one story only are left out (they can match
   nothing), and each story keeps its TOP_TERMS heaviest terms (and any tied with the last),
   L2-normalised.
2. Similarity: the cosine of those vectors, computed sparse and vectorised (scipy), in blocks of
   rows. Weights are quantised to integers (2**-20) so that every sum is exact: the result does
   not depend on the order of additions, which is what lets an incremental update reproduce a
   full computation bit for bit.
3. Score of a pair: cosine + TOPIC_WEIGHT * Jaccard(topics) + TAG_WEIGHT * Jaccard(tags)
   + TIME_WEIGHT * closeness (1 on the same day, falling linearly to 0 at TIME_DAYS apart;
   0 when either date is unknown). Bonuses count only for pairs whose cosine reaches MIN_COSINE,
   and a pair is shown only when its score reaches MIN_SCORE: an unrelated story is never shown
   just to fill the list.
4. List: the story's pins (`related:`) first, in their order, then the best scores (ties by slug),
   up to `count`, never a story in `unrelated:`. A pin to a slug that is not among the stories is
   dropped with a warning (in `Related.warnings`).
5. Same-story groups: pairs with cosine >= GROUP_COSINE, dates at most GROUP_DAYS apart (or
   cosine >= GROUP_COSINE_UNDATED when a date is missing) and different outlets (when both are
   known) are joined; a group is a connected set of such pairs.

`RelatedIndex` keeps what a later edit needs (term counts, document frequencies, vectors, each
story's TOP_TERMS-th weight and best CANDIDATES) so that `update` recomputes only what an edit can
change: the edited stories, the stories for which a term whose document frequency changed is or
becomes one of their kept terms, and the stories whose kept candidates lost one of those; every
other story merges in its new scores against them. Its result equals a full `compute_related`
(tests/unit/test_related.py proves it on random edits, mutation-checked). Adding or removing a
story changes N, hence every idf: that is a full computation.

Cost: reading the texts (tokenising) is most of it; `workers=2` does it in two forked processes
for large sites (only from a single-threaded process). Figures: bench/RELATED.md.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from digest.model import Story

TITLE_WEIGHT = 3  # integers: a title word counts as TITLE_WEIGHT body words
SUMMARY_WEIGHT = 1
BODY_CHARS = 3000
NAME_CHARS = 1500  # names (for the "shares: ..." reasons) come from the title, summary and body start
TOP_TERMS = 160
TOPIC_WEIGHT = 0.08
TAG_WEIGHT = 0.08
TIME_WEIGHT = 0.04
TIME_DAYS = 30.0
MIN_COSINE = 0.04
MIN_SCORE = 0.06
GROUP_COSINE = 0.5
GROUP_COSINE_UNDATED = 0.7
GROUP_DAYS = 3
CANDIDATES = 30  # best candidates kept per story (more when `count` asks for more)
PARALLEL_MIN = 2000  # fewer stories than this are read in one process
BLOCK = 256  # rows of the similarity matrix computed at once
_SCALE = 2**20  # weight quantum: integer sums are exact
KEYS_VERSION = 2  # how term keys are made: an index pickled with other keys is rebuilt

_STOP = frozenset(
    """a about above after again against all also am an and any are aren as at be because been before
    being below between both but by can cannot could couldn did didn do does doesn doing don down during
    each even ever every few for from further get got had hadn has hasn have haven having he her here hers
    herself him himself his how however i if in into is isn it its itself just let ll me more most much
    must mustn my myself no nor not now of off on once one only or other ought our ours ourselves out over
    own per re s said same say says shall shan she should shouldn since so some still such t than that the
    their theirs them themselves then there these they this those though through thus to too under until
    up upon us ve very via was wasn we were weren what when where whether which while who whom whose why
    will with within without won would wouldn yet you your yours yourself yourselves also mr ms mrs""".split()
)
_TOKEN = re.compile(r"\w\w+")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_NAME = re.compile(r"[A-Z](?:(?:[\w'’.-]*\w)?(?:\s+(?:of\s+the\s+|of\s+|de\s+|for\s+)?[A-Z](?:[\w'’.-]*\w)?)+|[A-Z]+[a-z]?s?\b)")
_NAME_LEADS = frozenset("The A An In On At But And For Of To This That These Those It He She We They As By If When While After Before Since Mr Ms Mrs Dr".split())


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class RelatedLink:
    """One related story: its slug, the pair's score and what the two stories share."""

    slug: str
    score: float
    reasons: tuple[str, ...] = ()  # shared names and tags, e.g. ("ASEAN", "South China Sea")
    pinned: bool = False


@dataclass(frozen=True)
class Related:
    """Related stories and same-story groups of every story (keyed by slug)."""

    links: Mapping[str, tuple[RelatedLink, ...]]
    groups: Mapping[str, tuple[str, ...]]  # the other members of the story's group, by date then slug
    warnings: tuple[str, ...] = ()


def related_json(related: Related) -> dict[str, list[str]]:
    """`output/related.json`: slug -> [group members..., then the other related stories], best first."""
    out: dict[str, list[str]] = {}
    for slug in sorted(related.links):
        group = list(related.groups.get(slug, ()))
        seen = set(group)
        out[slug] = group + [link.slug for link in related.links[slug] if link.slug not in seen]
    return out


# --------------------------------------------------------------------------- text features


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


def _words(text: str) -> list[str]:
    return [w for w in _TOKEN.findall(_fold(text)) if w not in _STOP]


def story_terms(story: Story) -> Counter[str]:
    """Weighted raw term counts (unigrams and bigrams) of a story's title, summary and body start."""
    counts: Counter[str] = Counter()
    for text, weight in ((story.title, TITLE_WEIGHT), (story.summary or "", SUMMARY_WEIGHT), (story.body[:BODY_CHARS], 1)):
        words = _words(text)
        counts.update(words * weight)  # Counter.update counts in C
        counts.update(list(map(" ".join, zip(words, words[1:]))) * weight)
    return counts


def story_names(story: Story) -> frozenset[str]:
    """Capitalised multiword names and acronyms (e.g. "South China Sea", "ASEAN") of a story's start."""
    text = "\n".join((story.title, story.summary or "", story.body[:NAME_CHARS]))
    names = set()
    for match in _NAME.finditer(text):
        if match.start() and text[match.start() - 1].isalnum():
            continue
        words = match.group(0).split()
        while words and words[0] in _NAME_LEADS:
            words = words[1:]
        if len(words) >= 2 or (len(words) == 1 and words[0].isupper() and len(words[0]) >= 2):
            names.add(" ".join(words).replace("’", "'"))
    return frozenset(names)


# Term keys: a deterministic 63-bit hash of each word (blake2b), and a mix of the two word keys for
# a bigram, so that an index pickled by one process can be updated by another. A text is cut into
# chunks at ASCII non-word characters in one C pass (bytes.translate + split, which also lowercases
# ASCII); each distinct chunk is read once per process (_CHUNKS memo): an ASCII chunk is one word,
# a chunk with other characters is folded and tokenised like `_words` (it may hold 0, 1 or more
# words). The result equals hashing the words of `_words` (tests/unit/test_related.py checks it).
_STOP_KEY, _UNKNOWN, _SEVERAL = 0, 1, 2  # chunk memo sentinels; real word keys are >= 3
_WORD_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789_"
_TABLE = bytes(c + 32 if 65 <= c <= 90 else c if c in _WORD_BYTES or c >= 128 else 32 for c in range(256))
_CHUNKS: dict[bytes, int] = {w.encode(): _STOP_KEY for w in _STOP} | {bytes([c]): _STOP_KEY for c in _WORD_BYTES}
_CHUNK_PARTS: dict[bytes, np.ndarray] = {}  # chunks of several words: their keys
_M1, _M2, _M3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)


def word_key(word: str) -> int:
    """The stable key (>= 3) of one folded word: the same in every process and on every machine."""
    key = int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little") >> 1
    return key if key >= 3 else 3


def _learn(chunk: bytes) -> None:
    if chunk.isascii():
        _CHUNKS[chunk] = word_key(chunk.decode("ascii"))
        return
    keys = [word_key(w) for w in _words(chunk.decode("utf-8", "surrogatepass"))]
    if len(keys) == 1:
        _CHUNKS[chunk] = keys[0]
    elif not keys:
        _CHUNKS[chunk] = _STOP_KEY
    else:
        _CHUNKS[chunk] = _SEVERAL
        _CHUNK_PARTS[chunk] = np.array(keys, dtype=np.int64)


def _word_keys(text: str) -> np.ndarray:
    """Keys of the words of `text` (as `_words` reads them), in order."""
    chunks = text.encode("utf-8", "surrogatepass").translate(_TABLE).split()
    keys = np.fromiter(map(_CHUNKS.get, chunks, repeat(_UNKNOWN)), dtype=np.int64, count=len(chunks))
    flags = keys[keys < 3]
    if len(flags) and flags.max() >= _UNKNOWN:
        for i in np.flatnonzero(keys == _UNKNOWN).tolist():
            if chunks[i] not in _CHUNKS:
                _learn(chunks[i])
            keys[i] = _CHUNKS[chunks[i]]
        if (keys == _SEVERAL).any():
            keys = np.concatenate([_CHUNK_PARTS[c] if k == _SEVERAL else np.array([k], dtype=np.int64)
                                   for c, k in zip(chunks, keys.tolist())])
    return keys[keys != _STOP_KEY]


def bigram_keys(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Stable keys of the bigrams (first[i], second[i]) of word keys (a 64-bit mix, order-sensitive)."""
    h = first.view(np.uint64) * _M1 + second.view(np.uint64)
    h ^= h >> _S30
    h *= _M2
    h ^= h >> _S27
    h *= _M3
    h ^= h >> _S31
    return h.view(np.int64)


def story_term_keys(story: Story) -> tuple[np.ndarray, np.ndarray]:
    """(sorted term keys, weighted counts) of `story_terms(story)`, computed without term strings."""
    sections = ((story.title, TITLE_WEIGHT), (story.summary or "", SUMMARY_WEIGHT), (story.body[:BODY_CHARS], 1))
    parts = [_word_keys(text) for text, _ in sections]
    words = np.concatenate(parts)
    section = np.repeat(np.arange(3), [len(p) for p in parts])
    inner = section[:-1] == section[1:]  # bigrams do not cross from the title into the summary
    pairs = bigram_keys(words[:-1][inner], words[1:][inner])
    terms, at = [words, pairs], 0
    for part, (_, weight) in zip(parts, sections):
        if weight > 1 and len(part):
            terms += [part, pairs[at:at + len(part) - 1]] * (weight - 1)
        at += max(0, len(part) - 1)
    terms = np.sort(np.concatenate(terms))
    if not len(terms):
        return terms, terms.copy()
    starts = np.flatnonzero(np.concatenate([[True], terms[1:] != terms[:-1]]))
    return terms[starts], np.diff(np.append(starts, len(terms)))


def _day(date: datetime | None) -> int | None:
    return None if date is None else date.date().toordinal()


@dataclass(frozen=True, eq=False)
class _Doc:
    slug: str
    sig: tuple  # everything the story contributes; equal sig, equal doc
    keys: np.ndarray  # stable term keys (int64, word_key / bigram_keys)
    tf: np.ndarray  # weighted raw counts (integers), aligned with keys
    names: frozenset[str]
    day: int | None
    source: str | None
    topics: frozenset[str]
    tags: frozenset[str]
    pins: tuple[str, ...]
    unrelated: frozenset[str]


def _sig(story: Story, topics: Sequence[str]) -> tuple:
    return (story.title, story.summary, story.body[:BODY_CHARS], story.date, story.source, tuple(topics),
            story.tags, story.related, story.unrelated)


def _features(story: Story) -> tuple[np.ndarray, np.ndarray, frozenset[str]]:
    """(term keys, weighted counts, names) of one story: the costly part, done once per story."""
    keys, tf = story_term_keys(story)
    return keys, tf, story_names(story)


_FORKED: Sequence[Story] = ()  # the stories a forked worker reads (inherited, not pickled)


def _features_of(span: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray, frozenset[str]]]:
    return [_features(story) for story in _FORKED[span[0]:span[1]]]


def _all_features(stories: Sequence[Story], workers: int) -> list[tuple[np.ndarray, np.ndarray, frozenset[str]]]:
    """Features of every story; in `workers` forked processes when that is safe and worth it.

    Forking is used only on a platform that has it and from a single-threaded process (a fork
    of a threaded process can deadlock).
    """
    global _FORKED
    if (workers < 2 or len(stories) < PARALLEL_MIN or threading.active_count() > 1
            or "fork" not in multiprocessing.get_all_start_methods()):
        return [_features(story) for story in stories]
    step = max(100, len(stories) // (workers * 8))
    spans = [(i, min(i + step, len(stories))) for i in range(0, len(stories), step)]
    _FORKED = stories
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_features_of, spans, chunksize=1)
    finally:
        _FORKED = ()
    return [item for part in parts for item in part]


def _doc(story: Story, topics: Sequence[str], features: tuple | None = None) -> _Doc:
    keys, tf, names = features if features is not None else _features(story)
    return _Doc(
        slug=story.slug,
        sig=_sig(story, topics),
        keys=keys,
        tf=tf,
        names=names,
        day=_day(story.date),
        source=story.source.casefold().strip() if story.source else None,
        topics=frozenset(topics),
        tags=frozenset(t.casefold() for t in story.tags),
        pins=tuple(story.related),
        unrelated=frozenset(story.unrelated),
    )


# --------------------------------------------------------------------------- the index


@dataclass
class _Candidates:
    """A story's best candidates, best first: (score, cosine, slug); `truncated`: more existed."""

    items: list[tuple[float, float, str]] = field(default_factory=list)
    truncated: bool = False


class RelatedIndex:
    """Everything needed to compute related stories, and to update them after an edit.

    Build with `RelatedIndex(stories, story_topics, count)`, read `result()`, and call
    `update(stories, story_topics)` with the new stories after an edit. Only what an edit can
    change is recomputed: the stories whose pruned vector changed (they share a term whose
    document frequency changed, and that term is or becomes one of their TOP_TERMS) get their
    row recomputed; every other story merges its new scores against those into its kept
    candidates (or is recomputed when its kept list ran short). The result equals a full
    computation. Adding or removing a story changes every idf (N changes): a full computation.
    """

    def __init__(self, stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]], count: int = 5,
                 workers: int = 1) -> None:
        self.count = count
        self.workers = workers
        self.keep = max(CANDIDATES, 3 * count)
        self._full(list(stories), story_topics)

    # ---- building

    def _full(self, stories: list[Story], story_topics: Mapping[str, Sequence[str]]) -> None:
        self.keys_version = KEYS_VERSION
        stories = sorted(stories, key=lambda s: s.slug)
        self.slugs = [s.slug for s in stories]
        self.pos = {slug: i for i, slug in enumerate(self.slugs)}
        self._idf_n, self._idf, self._tfw = -1, np.zeros(0), []
        self.kth: dict[str, float] = {}  # each story's TOP_TERMS-th weight (-inf: it keeps all)
        self._incidence_key = None
        features = _all_features(stories, self.workers)
        self.docs = {s.slug: _doc(s, story_topics.get(s.slug, ()), f) for s, f in zip(stories, features)}
        del features
        keys = [self.docs[slug].keys for slug in self.slugs]
        all_keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
        self.uniq, inverse = np.unique(all_keys, return_inverse=True)
        del all_keys
        self.extra: dict[int, int] = {}  # columns of terms first seen in an update
        bounds = np.cumsum([len(k) for k in keys])[:-1]
        self.cols = dict(zip(self.slugs, np.split(inverse.astype(np.int64), bounds)))
        self.df = np.bincount(inverse, minlength=len(self.uniq)).astype(np.int64)
        self.vectors = dict(zip(self.slugs, self._vectors(self.slugs)))
        self._postings = None
        self._matrices()
        self.cands: dict[str, _Candidates] = {}
        self._compute_rows(self.slugs)

    def _columns(self, keys: np.ndarray) -> np.ndarray:
        """Column ids of term hashes, adding columns for terms never seen."""
        if len(self.uniq):
            at = np.minimum(np.searchsorted(self.uniq, keys), len(self.uniq) - 1)
            found = self.uniq[at] == keys
        else:
            at, found = np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
        cols = at.astype(np.int64)
        for i in np.flatnonzero(~found):
            key = int(keys[i])
            if key not in self.extra:
                self.extra[key] = len(self.uniq) + len(self.extra)
            cols[i] = self.extra[key]
        grow = len(self.uniq) + len(self.extra) - len(self.df)
        if grow > 0:
            self.df = np.concatenate([self.df, np.zeros(grow, dtype=np.int64)])
        return cols

    def _vectors(self, slugs: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(column ids, quantised weights) of each story's pruned, normalised TF-IDF vector.

        Per story the result depends only on its own terms, their df and N, whatever else is
        in the batch: so a partial recomputation gives the same bits as a full one.
        """
        if not slugs:
            return []
        lens = np.array([len(self.cols[s]) for s in slugs], dtype=np.int64)
        cols = np.concatenate([self.cols[s] for s in slugs])
        tf = np.concatenate([self.docs[s].tf for s in slugs])
        row = np.repeat(np.arange(len(slugs)), lens)
        df = self.df[cols]
        ok = df >= 2  # a term of one story only matches nothing
        cols, tf, row, df = cols[ok], tf[ok], row[ok], df[ok]
        w = self._weights(tf, df)
        # the TOP_TERMS heaviest terms of each row, and every term tied with the last of them
        counts = np.bincount(row, minlength=len(slugs))
        bounds = np.cumsum(counts)
        kth = np.full(len(slugs), -np.inf)
        for i in np.flatnonzero(counts > TOP_TERMS):  # rows are contiguous: `row` is sorted
            part = w[bounds[i] - counts[i]:bounds[i]]
            kth[i] = np.partition(part, len(part) - TOP_TERMS)[len(part) - TOP_TERMS]
        for slug, value in zip(slugs, kth.tolist()):
            self.kth[slug] = value
        keep = w >= kth[row]
        cols, w, row = cols[keep], w[keep], row[keep]
        norm = np.sqrt(np.bincount(row, weights=w * w, minlength=len(slugs)))
        vals = np.rint(w / norm[row] * _SCALE).astype(np.int64)
        bounds = np.cumsum(np.bincount(row, minlength=len(slugs)))[:-1]
        return list(zip(np.split(cols, bounds), np.split(vals, bounds)))

    def _weights(self, tf: np.ndarray, df: np.ndarray) -> np.ndarray:
        """TF-IDF weights ``(1 + ln tf) * (ln((1 + N) / (1 + df)) + 1)`` from tables of scalar
        logarithms: the same bits for a (tf, df) pair wherever it sits in an array (numpy's
        vectorised log may round the last bit differently by position)."""
        n = len(self.docs)
        if self._idf_n != n:
            self._idf = np.array([math.log((1 + n) / (1 + d)) + 1.0 for d in range(n + 2)])
            self._idf_n = n
        top = int(tf.max()) if len(tf) else 0
        while len(self._tfw) <= top:
            self._tfw.append(1.0 + math.log(len(self._tfw)) if self._tfw else 0.0)
        return np.asarray(self._tfw)[tf] * self._idf[df]

    def _matrices(self) -> None:
        n = len(self.slugs)
        rows = [self.vectors[slug] for slug in self.slugs]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(c) for c, _ in rows], out=indptr[1:])
        indices = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
        data = np.concatenate([v for _, v in rows]) if rows else np.zeros(0, dtype=np.int64)
        width = max(len(self.df), 1)
        self.X = sp.csr_matrix((data, indices, indptr), shape=(n, width))
        self.XT = self.X.T.tocsr()
        self.days = np.array([-10**9 if self.docs[s].day is None else self.docs[s].day for s in self.slugs], dtype=np.int64)
        self.dated = np.array([self.docs[s].day is not None for s in self.slugs], dtype=bool)
        key = tuple((self.docs[s].topics, self.docs[s].tags) for s in self.slugs)
        if key != self._incidence_key:
            self.topic_bits, self.topic_n = self._incidence(lambda d: d.topics)
            self.tag_bits, self.tag_n = self._incidence(lambda d: d.tags)
            self._incidence_key = key

    def _incidence(self, get) -> tuple[np.ndarray, np.ndarray]:
        """(bit masks: one row of uint64 words per story, set sizes) of the stories' labels."""
        labels = sorted({x for slug in self.slugs for x in get(self.docs[slug])})
        index = {x: i for i, x in enumerate(labels)}
        bits = np.zeros((len(self.slugs), (len(labels) + 63) // 64), dtype=np.uint64)
        sizes = np.zeros(len(self.slugs), dtype=np.int64)
        for i, slug in enumerate(self.slugs):
            for x in get(self.docs[slug]):
                j = index[x]
                bits[i, j // 64] |= np.uint64(1) << np.uint64(j % 64)
                sizes[i] += 1
        return bits, sizes

    # ---- scoring

    def _bonus(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Topic, tag and time bonuses of the pairs (a[i], b[i]) (row numbers); symmetric."""
        bonus = np.zeros(len(a))
        for weight, masks, sizes in ((TOPIC_WEIGHT, self.topic_bits, self.topic_n), (TAG_WEIGHT, self.tag_bits, self.tag_n)):
            if masks.shape[1]:
                shared = np.bitwise_count(masks[a] & masks[b]).sum(axis=1).astype(np.float64)
                union = (sizes[a] + sizes[b]).astype(np.float64) - shared
                bonus += weight * np.divide(shared, union, out=np.zeros(len(a)), where=union > 0)
        both = self.dated[a] & self.dated[b]
        gap = np.abs(self.days[a] - self.days[b]).astype(np.float64)
        bonus += np.where(both, TIME_WEIGHT * np.clip(1.0 - gap / TIME_DAYS, 0.0, 1.0), 0.0)
        return bonus

    def _compute_rows(self, slugs: Sequence[str], full_rows: bool = False) -> dict[str, list[tuple[float, float, str]]]:
        """Recompute the candidate lists of `slugs`; with `full_rows`, return each one's whole
        qualifying row (every pair reaching MIN_SCORE), best first."""
        out = {}
        order = np.array(sorted(self.pos[s] for s in slugs), dtype=np.int64)
        for start in range(0, len(order), BLOCK):
            rows = order[start:start + BLOCK]
            for k, items, truncated in self._block(rows, full_rows):
                slug = self.slugs[rows[k]]
                self.cands[slug] = _Candidates(items[:self.keep], truncated=truncated)
                if full_rows:
                    out[slug] = items
        return out

    def _block(self, rows: np.ndarray, full_rows: bool) -> Iterable[tuple[int, list, bool]]:
        """(k, candidates best first, truncated) of each row rows[k] of the similarity matrix.

        The product is sparse: only pairs reaching MIN_COSINE are scored. A row with more than
        `keep` of them (a crowded topic) is cut first at its keep-th best cosine minus the largest
        bonus, below which no pair can make its list; this changes nothing but the work."""
        keep = self.keep
        product = self.X[rows] @ self.XT
        r = np.repeat(np.arange(len(rows)), np.diff(product.indptr))
        b, data = product.indices.astype(np.int64), product.data
        ok = (data >= MIN_COSINE * _SCALE * _SCALE) & (b != rows[r])
        r, b, c = r[ok], b[ok], data[ok] / float(_SCALE * _SCALE)
        counts = np.bincount(r, minlength=len(rows))
        truncated = counts > keep  # conservative: more may qualify than are kept
        if not full_rows and truncated.any():
            kth = np.full(len(rows), -np.inf)
            crowded = np.flatnonzero(truncated)
            dense = np.full((len(crowded), int(counts.max())), -np.inf)
            at = np.searchsorted(crowded, r)
            sel = (at < len(crowded)) & (crowded[np.minimum(at, len(crowded) - 1)] == r)
            pos = np.arange(len(r)) - np.searchsorted(r, r)  # rank of the entry within its row
            dense[at[sel], pos[sel]] = c[sel]
            kth[crowded] = -np.partition(-dense, keep - 1, axis=1)[:, keep - 1]
            ok = c >= kth[r] - (TOPIC_WEIGHT + TAG_WEIGHT + TIME_WEIGHT)
            r, b, c = r[ok], b[ok], c[ok]
        score = np.round(c + self._bonus(rows[r], b), 12)
        ok = score >= MIN_SCORE
        r, b, c, score = r[ok], b[ok], c[ok], score[ok]
        o = np.lexsort((b, -score, r))  # by row, then score desc, then slug (row order)
        r, b, c, score = r[o], b[o], c[o], score[o]
        bounds = np.searchsorted(r, np.arange(len(rows) + 1)).tolist()
        score, c, names = score.tolist(), c.tolist(), [self.slugs[j] for j in b.tolist()]
        for k in range(len(rows)):
            lo, hi = bounds[k], bounds[k + 1]
            yield k, list(zip(score[lo:hi], c[lo:hi], names[lo:hi])), bool(truncated[k])

    # ---- incremental update

    def _postings_of(self, columns: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(slug, column, tf) of every story term in `columns`, from the current terms."""
        if self._postings is None:
            lens = [len(self.cols[s]) for s in self.slugs]
            rows = np.repeat(np.arange(len(self.slugs)), lens)
            cols = np.concatenate([self.cols[s] for s in self.slugs])
            tf = np.concatenate([self.docs[s].tf for s in self.slugs])
            self._postings = sp.csc_matrix((tf, (rows, cols)), shape=(len(self.slugs), len(self.df)))
            self._patched: set[str] = set()  # stories whose terms changed since: read from self.cols
        m = self._postings
        slugs, out_cols, out_tf = [], [], []
        for c in columns.tolist():
            if c < m.shape[1]:
                lo, hi = m.indptr[c], m.indptr[c + 1]
                for i, t in zip(m.indices[lo:hi].tolist(), m.data[lo:hi].tolist()):
                    if self.slugs[i] not in self._patched:
                        slugs.append(self.slugs[i])
                        out_cols.append(c)
                        out_tf.append(t)
        wanted = set(columns.tolist())
        for slug in sorted(self._patched):
            for c, t in zip(self.cols[slug].tolist(), self.docs[slug].tf.tolist()):
                if c in wanted:
                    slugs.append(slug)
                    out_cols.append(c)
                    out_tf.append(t)
        return slugs, np.array(out_cols, dtype=np.int64), np.array(out_tf, dtype=np.int64)

    def update(self, stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]]) -> set[str]:
        """Bring the index up to date with `stories`; returns the slugs whose rows were recomputed."""
        stories = list(stories)
        new = {s.slug: s for s in stories}
        if set(new) != set(self.docs) or getattr(self, "keys_version", None) != KEYS_VERSION:
            # (an index pickled by an older digest, with other term keys, is rebuilt)
            self._full(stories, story_topics)
            return set(self.slugs)
        changed = {}
        for slug, story in new.items():
            if _sig(story, story_topics.get(slug, ())) != self.docs[slug].sig:  # cheap: no tokenising
                changed[slug] = _doc(story, story_topics.get(slug, ()))
        if not changed:
            return set()
        if self._postings is not None and len(self._patched) > 500:
            self._postings = None  # re-index rather than read many patched stories one by one
        self._postings_of(np.zeros(0, dtype=np.int64))  # index the terms as they were
        touched: list[np.ndarray] = []
        old_df = {}
        for slug, doc in changed.items():
            old_cols = self.cols[slug]
            new_cols = self._columns(doc.keys)
            gone = np.setdiff1d(old_cols, new_cols)
            came = np.setdiff1d(new_cols, old_cols)
            for c in np.concatenate([gone, came]).tolist():
                old_df.setdefault(c, int(self.df[c]))
            np.subtract.at(self.df, gone, 1)
            np.add.at(self.df, came, 1)
            touched += [gone, came]
            self.cols[slug] = new_cols
            self.docs[slug] = doc
            self._patched.add(slug)
        touched_cols = np.unique(np.concatenate(touched))
        # A story's vector changes only if a term whose df changed is, or becomes, one of its
        # kept terms: its weight reaches the story's TOP_TERMS-th weight before or after.
        holders, cols, tf = self._postings_of(touched_cols)
        df_old = np.array([old_df[c] for c in cols.tolist()], dtype=np.int64)
        df_new = self.df[cols]
        w_old = np.where(df_old >= 2, self._weights(tf, df_old), -np.inf)
        w_new = np.where(df_new >= 2, self._weights(tf, df_new), -np.inf)
        kth = np.array([self.kth[slug] for slug in holders])
        moved = (w_old >= kth) | (w_new >= kth)
        affected = set(changed) | {slug for slug, m in zip(holders, moved.tolist()) if m}
        ordered = sorted(affected)
        for slug, vec in zip(ordered, self._vectors(ordered)):
            self.vectors[slug] = vec
        self._matrices()
        fresh = self._compute_rows(sorted(affected), full_rows=True)
        # Every other story: its scores against unaffected stories are unchanged; merge in
        # its new scores against the affected ones (scores are symmetric).
        incoming: dict[str, list[tuple[float, float, str]]] = {}
        for a, row in fresh.items():
            for score, cos, b in row:
                if b not in affected:
                    incoming.setdefault(b, []).append((score, cos, a))
        recompute = []
        for b in self.slugs:
            if b in affected:
                continue
            cand = self.cands[b]
            kept = [c for c in cand.items if c[2] not in affected]
            arrived = incoming.get(b, [])
            if not arrived and len(kept) == len(cand.items):
                continue
            if cand.truncated and len(kept) < len(cand.items):
                recompute.append(b)  # what ranked below the kept ones is unknown
                continue
            if cand.truncated:
                floor = _key(kept[-1])
                merged = sorted(kept + [c for c in arrived if _key(c) < floor], key=_key)
            else:
                merged = sorted(kept + arrived, key=_key)
            self.cands[b] = _Candidates(merged[:self.keep], truncated=cand.truncated or len(merged) > self.keep)
        if recompute:
            self._compute_rows(recompute)
        return affected | set(recompute)

    # ---- the result

    def result(self) -> Related:
        """The related lists and groups for the current stories."""
        links: dict[str, tuple[RelatedLink, ...]] = {}
        warnings = []
        for slug in self.slugs:
            doc = self.docs[slug]
            cands = self.cands[slug].items
            by_slug = {c[2]: c for c in cands}
            chosen: list[RelatedLink] = []
            taken = {slug}
            for pin in doc.pins:
                if pin in taken:
                    continue
                if pin not in self.docs:
                    warnings.append(f"{slug}: related story '{pin}' is not among the built stories; left out")
                    continue
                taken.add(pin)
                score = by_slug[pin][0] if pin in by_slug else 0.0
                chosen.append(RelatedLink(pin, score, self._reasons(doc, self.docs[pin]), pinned=True))
            for score, _, other in cands:
                if len(chosen) >= self.count:
                    break
                if other in taken or other in doc.unrelated:
                    continue
                taken.add(other)
                chosen.append(RelatedLink(other, score, self._reasons(doc, self.docs[other])))
            links[slug] = tuple(chosen)
        return Related(MappingProxyType(links), MappingProxyType(self._groups()), tuple(warnings))

    def _reasons(self, a: _Doc, b: _Doc) -> tuple[str, ...]:
        names = sorted(a.names & b.names, key=lambda n: (-len(n.split()), n))
        tags = sorted(a.tags & b.tags)
        return tuple(tags[:2] + names[: max(0, 4 - len(tags[:2]))])

    def _groups(self) -> dict[str, tuple[str, ...]]:
        parent = {slug: slug for slug in self.slugs}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for slug in self.slugs:
            a = self.docs[slug]
            for _, cos, other in self.cands[slug].items:
                b = self.docs[other]
                if a.source and b.source and a.source == b.source:
                    continue
                if a.day is not None and b.day is not None:
                    ok = cos >= GROUP_COSINE and abs(a.day - b.day) <= GROUP_DAYS
                else:
                    ok = cos >= GROUP_COSINE_UNDATED
                if ok and other not in a.unrelated and slug not in b.unrelated:
                    ra, rb = find(slug), find(other)
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
        members: dict[str, list[str]] = {}
        for slug in self.slugs:
            members.setdefault(find(slug), []).append(slug)
        groups = {}
        for group in members.values():
            if len(group) < 2:
                continue
            ordered = sorted(group, key=lambda s: (self.docs[s].day is None, self.docs[s].day or 0, s))
            for slug in group:
                groups[slug] = tuple(s for s in ordered if s != slug)
        return groups


def _key(c: tuple[float, float, str]) -> tuple[float, str]:
    return (-c[0], c[2])


def compute_related(stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]], count: int = 5,
                    workers: int = 1) -> Related:
    """Related stories (pins first, up to `count`) and same-story groups of every story.

    `workers` > 1 reads the stories' texts in that many forked processes (large sites only).
    """
    return RelatedIndex(stories, story_topics, count, workers).result()
