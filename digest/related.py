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

`RelatedIndex` keeps what a later edit needs (term counts, document frequencies, vectors and each
story's best candidates) so that `update` recomputes only what an edit can change; its result
equals a full `compute_related` (tests/unit/test_related.py proves it on random edits).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from digest.model import Story

TITLE_WEIGHT = 3.0
SUMMARY_WEIGHT = 1.0
BODY_CHARS = 3000
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
BLOCK = 256  # rows of the similarity matrix computed at once
_SCALE = 2**20  # weight quantum: integer sums are exact

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
_NAME = re.compile(r"\b(?:[A-Z][\w'’.-]*[\w])(?:\s+(?:of\s+the\s+|of\s+|de\s+|for\s+)?[A-Z][\w'’.-]*[\w])+|\b[A-Z]{2,}[a-z]?s?\b")
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


def _field_terms(text: str, weight: float, counts: dict[str, float]) -> None:
    words = [w for w in _TOKEN.findall(_fold(text)) if w not in _STOP]
    for term, n in Counter(words).items():
        counts[term] = counts.get(term, 0.0) + weight * n
    for term, n in Counter(map(" ".join, zip(words, words[1:]))).items():
        counts[term] = counts.get(term, 0.0) + weight * n


def story_terms(story: Story) -> dict[str, float]:
    """Weighted raw term counts (unigrams and bigrams) of a story's title, summary and body start."""
    counts: dict[str, float] = {}
    _field_terms(story.title, TITLE_WEIGHT, counts)
    if story.summary:
        _field_terms(story.summary, SUMMARY_WEIGHT, counts)
    _field_terms(story.body[:BODY_CHARS], 1.0, counts)
    return counts


def story_names(story: Story) -> frozenset[str]:
    """Capitalised multiword names and acronyms (e.g. "South China Sea", "ASEAN") of a story."""
    text = "\n".join((story.title, story.summary or "", story.body[:BODY_CHARS]))
    names = set()
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        while words and words[0] in _NAME_LEADS:
            words = words[1:]
        if len(words) >= 2 or (len(words) == 1 and words[0].isupper() and len(words[0]) >= 2):
            names.add(" ".join(words).replace("’", "'"))
    return frozenset(names)


def _day(date: datetime | None) -> int | None:
    return None if date is None else date.date().toordinal()


@dataclass(frozen=True, eq=False)
class _Doc:
    slug: str
    sig: tuple  # everything the story contributes; equal sig, equal doc
    keys: np.ndarray  # term hashes (int64; str hashes are stable within one process)
    tf: np.ndarray  # weighted raw counts, aligned with keys
    names: frozenset[str]
    day: int | None
    source: str | None
    topics: frozenset[str]
    tags: frozenset[str]
    pins: tuple[str, ...]
    unrelated: frozenset[str]


def _doc(story: Story, topics: Sequence[str]) -> _Doc:
    counts = story_terms(story)
    return _Doc(
        slug=story.slug,
        sig=(story.title, story.summary, story.body[:BODY_CHARS], story.date, story.source, tuple(topics),
             story.tags, story.related, story.unrelated),
        keys=np.fromiter(map(hash, counts), dtype=np.int64, count=len(counts)),
        tf=np.fromiter(counts.values(), dtype=np.float64, count=len(counts)),
        names=story_names(story),
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

    def __init__(self, stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]], count: int = 5) -> None:
        self.count = count
        self.keep = max(CANDIDATES, 3 * count)
        self._full(list(stories), story_topics)

    # ---- building

    def _full(self, stories: list[Story], story_topics: Mapping[str, Sequence[str]]) -> None:
        stories = sorted(stories, key=lambda s: s.slug)
        self.slugs = [s.slug for s in stories]
        self.pos = {slug: i for i, slug in enumerate(self.slugs)}
        self.docs = {s.slug: _doc(s, story_topics.get(s.slug, ())) for s in stories}
        keys = [self.docs[slug].keys for slug in self.slugs]
        all_keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
        self.uniq, inverse = np.unique(all_keys, return_inverse=True)
        self.extra: dict[int, int] = {}  # columns of terms first seen in an update
        bounds = np.cumsum([len(k) for k in keys])[:-1]
        self.cols = {slug: c for slug, c in zip(self.slugs, np.split(inverse.astype(np.int64), bounds))}
        self.df = np.bincount(inverse, minlength=len(self.uniq)).astype(np.int64)
        self.vectors = dict(zip(self.slugs, self._vectors(self.slugs)))
        self._postings = None
        self._matrices()
        self.cands: dict[str, _Candidates] = {}
        self._compute_rows(self.slugs)

    def _vectors(self, slugs: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(column ids, quantised weights) of each story's pruned, normalised TF-IDF vector.

        Per story the result depends only on its own terms, their df and N, whatever else is
        in the batch: so a partial recomputation gives the same bits as a full one.
        """
        n_docs = len(self.docs)
        if not slugs:
            return []
        lens = np.array([len(self.cols[s]) for s in slugs], dtype=np.int64)
        cols = np.concatenate([self.cols[s] for s in slugs])
        tf = np.concatenate([self.docs[s].tf for s in slugs])
        row = np.repeat(np.arange(len(slugs)), lens)
        df = self.df[cols]
        ok = df >= 2  # a term of one story only matches nothing
        cols, tf, row, df = cols[ok], tf[ok], row[ok], df[ok]
        w = (1.0 + np.log(tf)) * (np.log((1.0 + n_docs) / (1.0 + df)) + 1.0)
        # the TOP_TERMS heaviest terms of each row, and every term tied with the last of them
        order = np.lexsort((-w, row))
        counts = np.bincount(row, minlength=len(slugs))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        kth = np.full(len(slugs), -np.inf)
        long = counts > TOP_TERMS
        kth[long] = w[order][starts[long] + TOP_TERMS - 1]
        keep = w >= kth[row]
        cols, w, row = cols[keep], w[keep], row[keep]
        norm = np.sqrt(np.bincount(row, weights=w * w, minlength=len(slugs)))
        vals = np.rint(w / norm[row] * _SCALE).astype(np.int64)
        bounds = np.cumsum(np.bincount(row, minlength=len(slugs)))[:-1]
        out = []
        for c, v in zip(np.split(cols, bounds), np.split(vals, bounds)):
            o = np.argsort(c, kind="stable")
            out.append((c[o], v[o]))
        return out

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
        self.topic_m, self.topic_n = self._incidence(lambda d: d.topics)
        self.tag_m, self.tag_n = self._incidence(lambda d: d.tags)

    def _incidence(self, get) -> tuple[sp.csr_matrix, np.ndarray]:
        labels = sorted({x for slug in self.slugs for x in get(self.docs[slug])})
        index = {x: i for i, x in enumerate(labels)}
        r, c = [], []
        for i, slug in enumerate(self.slugs):
            for x in get(self.docs[slug]):
                r.append(i)
                c.append(index[x])
        m = sp.csr_matrix((np.ones(len(r), dtype=np.int64), (r, c)), shape=(len(self.slugs), max(len(labels), 1)))
        return m, np.asarray(m.sum(axis=1)).ravel()

    # ---- scoring

    def _scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score, cosine) dense blocks of `rows` against every story; self and weak pairs are -1."""
        cos = (self.X[rows] @ self.XT).toarray().astype(np.float64) / float(_SCALE * _SCALE)
        score = cos.copy()
        if self.topic_m.nnz:
            score += TOPIC_WEIGHT * _jaccard(self.topic_m, self.topic_n, rows)
        if self.tag_m.nnz:
            score += TAG_WEIGHT * _jaccard(self.tag_m, self.tag_n, rows)
        both = self.dated[rows][:, None] & self.dated[None, :]
        gap = np.abs(self.days[rows][:, None] - self.days[None, :]).astype(np.float64)
        score += np.where(both, TIME_WEIGHT * np.clip(1.0 - gap / TIME_DAYS, 0.0, 1.0), 0.0)
        score = np.where(cos >= MIN_COSINE, score, -1.0)
        score[np.arange(len(rows)), rows] = -1.0
        return np.round(score, 12), cos

    def _compute_rows(self, slugs: Sequence[str]) -> dict[str, list[tuple[float, float, str]]]:
        """Recompute the candidate lists of `slugs`; returns each one's full qualifying row."""
        out = {}
        order = np.array(sorted(self.pos[s] for s in slugs), dtype=np.int64)
        for start in range(0, len(order), BLOCK):
            rows = order[start:start + BLOCK]
            score, cos = self._scores(rows)
            for k, row in enumerate(rows):
                ok = np.flatnonzero(score[k] >= MIN_SCORE)
                best = ok[np.lexsort((ok, -score[k][ok]))]  # score desc, then slug (row order)
                slug = self.slugs[row]
                self.cands[slug] = _Candidates(
                    [(float(score[k][j]), float(cos[k][j]), self.slugs[j]) for j in best[:self.keep]],
                    truncated=len(best) > self.keep,
                )
                out[slug] = [(float(score[k][j]), float(cos[k][j]), self.slugs[j]) for j in best]
        return out

    # ---- incremental update

    def _columns(self, keys: np.ndarray) -> np.ndarray:
        """Column ids of term hashes, adding columns for terms never seen."""
        at = np.searchsorted(self.uniq, keys)
        at = np.minimum(at, max(len(self.uniq) - 1, 0))
        found = (self.uniq[at] == keys) if len(self.uniq) else np.zeros(len(keys), dtype=bool)
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

    def _docs_with(self, columns: np.ndarray) -> set[str]:
        """Slugs of the stories that have any of `columns` among their terms."""
        if self._postings is None:
            lens = [len(self.cols[s]) for s in self.slugs]
            rows = np.repeat(np.arange(len(self.slugs)), lens)
            cols = np.concatenate([self.cols[s] for s in self.slugs])
            self._postings = sp.csc_matrix((np.ones(len(cols), dtype=np.int8), (rows, cols)),
                                           shape=(len(self.slugs), len(self.df)))
        m = self._postings
        hit = set()
        for c in columns:
            if c < m.shape[1]:
                hit.update(m.indices[m.indptr[c]:m.indptr[c + 1]].tolist())
        return {self.slugs[i] for i in hit}

    def update(self, stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]]) -> set[str]:
        """Bring the index up to date with `stories`; returns the slugs whose rows were recomputed."""
        stories = list(stories)
        new = {s.slug: s for s in stories}
        if set(new) != set(self.docs):
            self._full(stories, story_topics)
            return set(self.slugs)
        changed = {}
        for slug, story in new.items():
            doc = _doc(story, story_topics.get(slug, ()))
            if doc.sig != self.docs[slug].sig:
                changed[slug] = doc
        if not changed:
            return set()
        touched: list[np.ndarray] = []
        for slug, doc in changed.items():
            old_cols = self.cols[slug]
            new_cols = self._columns(doc.keys)
            gone = np.setdiff1d(old_cols, new_cols)
            came = np.setdiff1d(new_cols, old_cols)
            np.subtract.at(self.df, gone, 1)
            np.add.at(self.df, came, 1)
            touched += [gone, came]
            self.cols[slug] = new_cols
            self.docs[slug] = doc
        self._postings = None
        touched_cols = np.unique(np.concatenate(touched))
        suspects = sorted(self._docs_with(touched_cols) | set(changed))
        affected = set(changed)
        for slug, vec in zip(suspects, self._vectors(suspects)):
            old = self.vectors[slug]
            if slug in changed or not (np.array_equal(old[0], vec[0]) and np.array_equal(old[1], vec[1])):
                affected.add(slug)
            self.vectors[slug] = vec
        self._matrices()
        fresh = self._compute_rows(sorted(affected))
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


def _jaccard(m: sp.csr_matrix, sizes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    shared = (m[rows] @ m.T).toarray().astype(np.float64)
    union = sizes[rows][:, None] + sizes[None, :] - shared
    return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)


def compute_related(stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]], count: int = 5) -> Related:
    """Related stories (pins first, up to `count`) and same-story groups of every story."""
    return RelatedIndex(stories, story_topics, count).result()
