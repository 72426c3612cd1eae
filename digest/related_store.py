"""What the related-stories index keeps per story, as columns: each story's doc (a digest of the
texts its terms are read from, everything else it contributes, its names, day, outlet, topics,
tags and pins) and its best candidates. Columns pickle cheaply (a string table and arrays of ids,
no per-story objects) and decode one story at a time, only when read; a decoded row is kept, so
reading it again gives the same object.
"""

from __future__ import annotations

from collections import abc
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from digest.model import Story
from digest.related_input import day as _day


class Doc(NamedTuple):  # a named tuple: 10,000 of them are made per full computation
    """What a story contributes to related stories besides its terms (casefolded where compared)."""

    slug: str
    text: bytes  # text_key(story): stands for the texts the terms and names are read from
    meta: str  # story_meta(story, topics): everything else the story contributes; equal text and meta, equal doc
    names: frozenset[str]
    day: int | None
    source: str | None
    topics: frozenset[str]
    tags: frozenset[str]
    pins: tuple[str, ...]
    unrelated: frozenset[str]


def make_doc(story: Story, topics: Sequence[str], names: frozenset[str], text: bytes, meta: str) -> Doc:
    """The doc of `story` with its assigned `topics`, its `names`, `text_key` and `story_meta`."""
    return Doc(story.slug, text, meta, names, _day(story.date),
                story.source.casefold().strip() if story.source else None, frozenset(topics),
                frozenset(t.casefold() for t in story.tags), tuple(story.related), frozenset(story.unrelated))


@dataclass
class Candidates:
    """A story's best candidates, best first: (score, cosine, slug); `truncated`: more existed."""

    items: list[tuple[float, float, str]] = field(default_factory=list)
    truncated: bool = False


NO_DAY = -10**9  # the day column's value for an undated story
_LABELS = ("names", "topics", "tags", "pins", "unrelated")  # the docs' string-set fields


class DocColumns(abc.Mapping):
    """The stories' docs by slug, kept as columns (cheap to pickle: a string table, arrays of ids)
    and decoded into `Doc`s only when read; a decoded doc is kept, so reading it again gives the
    same object."""

    def __init__(self, slugs: list[str], pos: dict[str, int]) -> None:
        self.slugs, self.pos = slugs, pos
        self.strings: list[str] = []
        self.text: list[bytes] = [b""] * len(slugs)
        self.meta: list[str] = [""] * len(slugs)
        self.day = np.full(len(slugs), NO_DAY, dtype=np.int64)
        self.source = np.full(len(slugs), -1, dtype=np.int32)
        self.sets = {f: (np.zeros(len(slugs) + 1, dtype=np.int64), np.zeros(0, dtype=np.int32)) for f in _LABELS}
        self._made: list[Doc | None] = [None] * len(slugs)
        self._ids: dict[str, int] | None = None

    def __getitem__(self, slug: str) -> Doc:
        row = self.pos[slug]
        doc = self._made[row]
        if doc is None:
            doc = self._made[row] = self._decode(row)
        return doc

    def __iter__(self):
        return iter(self.slugs)

    def __len__(self) -> int:
        return len(self.slugs)

    def labels(self, field_: str, row: int) -> list[str]:
        ptr, ids = self.sets[field_]
        return [self.strings[i] for i in ids[ptr[row]:ptr[row + 1]].tolist()]

    def _decode(self, row: int) -> Doc:
        day, source = int(self.day[row]), int(self.source[row])
        return Doc(self.slugs[row], self.text[row], self.meta[row], frozenset(self.labels("names", row)),
                    None if day == NO_DAY else day, None if source < 0 else self.strings[source],
                    frozenset(self.labels("topics", row)), frozenset(self.labels("tags", row)),
                    tuple(self.labels("pins", row)), frozenset(self.labels("unrelated", row)))

    def _id(self, text: str) -> int:
        if self._ids is None:
            self._ids = {x: i for i, x in enumerate(self.strings)}
        at = self._ids.get(text)
        if at is None:
            at = self._ids[text] = len(self.strings)
            self.strings.append(text)
        return at

    def replace(self, docs: Mapping[int, Doc]) -> None:
        """Put `docs` (row -> doc) in their rows: encoded at once, and kept decoded."""
        rows = np.array(sorted(docs), dtype=np.int64)
        new = [docs[r] for r in rows.tolist()]
        for row, doc in zip(rows.tolist(), new):
            self.text[row], self.meta[row], self._made[row] = doc.text, doc.meta, doc
            self.day[row] = NO_DAY if doc.day is None else doc.day
            self.source[row] = -1 if doc.source is None else self._id(doc.source)
        for f in _LABELS:
            values = [getattr(doc, f) for doc in new]
            new_ptr = np.zeros(len(new) + 1, dtype=np.int64)
            np.cumsum([len(v) for v in values], out=new_ptr[1:])
            ids = np.array([self._id(x) for v in values for x in v], dtype=np.int32)
            ptr, old = self.sets[f]
            if len(rows) == len(self.slugs):
                self.sets[f] = (new_ptr, ids)
            else:
                ptr, (ids,) = replace_rows(ptr, [old], rows, new_ptr, [ids])
                self.sets[f] = (ptr, ids)

    def state(self) -> dict:
        return {"strings": self.strings, "text": self.text, "meta": self.meta, "day": self.day,
                "source": self.source, "sets": self.sets}

    @classmethod
    def from_state(cls, slugs: list[str], pos: dict[str, int], state: dict) -> DocColumns:
        docs = cls(slugs, pos)
        n = len(slugs)
        docs.strings, docs.text, docs.meta = list(state["strings"]), list(state["text"]), list(state["meta"])
        docs.day, docs.source = np.asarray(state["day"], dtype=np.int64), np.asarray(state["source"], dtype=np.int32)
        docs.sets = {f: (np.asarray(state["sets"][f][0], dtype=np.int64), np.asarray(state["sets"][f][1], dtype=np.int32))
                     for f in _LABELS}
        ok = len(docs.text) == len(docs.meta) == len(docs.day) == len(docs.source) == n
        ok = ok and all(isinstance(t, bytes) for t in docs.text) and int(docs.source.max(initial=-1)) < len(docs.strings)
        for ptr, ids in docs.sets.values():
            ok = ok and len(ptr) == n + 1 and int(ptr[0]) == 0 and int(ptr[-1]) == len(ids) and bool((np.diff(ptr) >= 0).all())
            ok = ok and (not len(ids) or 0 <= int(ids.min()) and int(ids.max()) < len(docs.strings))
        if not ok:
            raise ValueError("inconsistent docs")
        return docs


class CandidateColumns(abc.Mapping):
    """Each story's best candidates by slug, kept as CSR columns (scores, cosines, row numbers, a
    truncated flag per row: cheap to pickle, and searched vectorised) and decoded into
    `Candidates` only when read; a decoded list is kept, so reading it again gives the same object."""

    def __init__(self, slugs: list[str], pos: dict[str, int]) -> None:
        self.slugs, self.pos = slugs, pos
        self.ptr = np.zeros(len(slugs) + 1, dtype=np.int64)
        self.score, self.cos = np.zeros(0), np.zeros(0)
        self.other = np.zeros(0, dtype=np.int32)
        self.truncated = np.zeros(len(slugs), dtype=bool)
        self._made: list[Candidates | None] = [None] * len(slugs)

    def __getitem__(self, slug: str) -> Candidates:
        return self.row(self.pos[slug])

    def __iter__(self):
        return iter(self.slugs)

    def __len__(self) -> int:
        return len(self.slugs)

    def row(self, row: int) -> Candidates:
        made = self._made[row]
        if made is None:
            lo, hi = int(self.ptr[row]), int(self.ptr[row + 1])
            slugs = self.slugs
            made = self._made[row] = Candidates(
                list(zip(self.score[lo:hi].tolist(), self.cos[lo:hi].tolist(), [slugs[j] for j in self.other[lo:hi].tolist()])),
                bool(self.truncated[row]))
        return made

    def replace(self, cands: Mapping[int, Candidates]) -> None:
        """Put `cands` (row -> candidates) in their rows: encoded at once, and kept decoded."""
        rows = np.array(sorted(cands), dtype=np.int64)
        new = [cands[r] for r in rows.tolist()]
        new_ptr = np.zeros(len(new) + 1, dtype=np.int64)
        np.cumsum([len(c.items) for c in new], out=new_ptr[1:])
        items = [item for c in new for item in c.items]
        pos = self.pos
        arrays = [np.array([i[0] for i in items], dtype=np.float64), np.array([i[1] for i in items], dtype=np.float64),
                  np.array([pos[i[2]] for i in items], dtype=np.int32)]
        if len(rows) == len(self.slugs):
            self.ptr, (self.score, self.cos, self.other) = new_ptr, arrays
        else:
            self.ptr, (self.score, self.cos, self.other) = replace_rows(
                self.ptr, [self.score, self.cos, self.other], rows, new_ptr, arrays)
        for row, cand in zip(rows.tolist(), new):
            self.truncated[row], self._made[row] = cand.truncated, cand

    def naming(self, rows: np.ndarray) -> np.ndarray:
        """The rows (sorted) whose candidates include one of `rows`."""
        if not len(rows):
            return np.zeros(0, dtype=np.int64)
        mask = np.zeros(len(self.slugs), dtype=bool)
        mask[rows] = True
        hits = np.flatnonzero(mask[self.other])
        return np.unique(np.searchsorted(self.ptr, hits, side="right") - 1)

    def state(self) -> tuple:
        return (self.ptr, self.score, self.cos, self.other, self.truncated)

    @classmethod
    def from_state(cls, slugs: list[str], pos: dict[str, int], state: tuple) -> CandidateColumns:
        cands = cls(slugs, pos)
        ptr, score, cos, other, truncated = state
        cands.ptr, cands.score, cands.cos = np.asarray(ptr, dtype=np.int64), np.asarray(score, dtype=np.float64), np.asarray(cos, dtype=np.float64)
        cands.other, cands.truncated = np.asarray(other, dtype=np.int32), np.asarray(truncated, dtype=bool)
        n, m = len(slugs), len(cands.other)
        if not (len(cands.ptr) == n + 1 and len(cands.truncated) == n and int(cands.ptr[0]) == 0
                and int(cands.ptr[-1]) == m == len(cands.score) == len(cands.cos) and bool((np.diff(cands.ptr) >= 0).all())
                and (not m or (0 <= int(cands.other.min()) and int(cands.other.max()) < n))):
            raise ValueError("inconsistent candidates")
        return cands


def replace_rows(indptr: np.ndarray, arrays: list[np.ndarray], rows: np.ndarray,
                 new_ptr: np.ndarray, new_arrays: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """CSR rows `rows` (sorted) replaced by the rows of (new_ptr, new_arrays): slices copied."""
    lengths = np.diff(indptr)
    lengths[rows] = np.diff(new_ptr)
    out_ptr = np.zeros(len(indptr), dtype=np.int64)
    np.cumsum(lengths, out=out_ptr[1:])
    cuts = indptr[rows].tolist(), indptr[rows + 1].tolist(), new_ptr.tolist()
    out = []
    for old, new in zip(arrays, new_arrays):
        pieces, at = [], 0
        for k, (lo, hi) in enumerate(zip(cuts[0], cuts[1])):
            pieces += [old[at:lo], new[cuts[2][k]:cuts[2][k + 1]]]
            at = hi
        out.append(np.concatenate(pieces + [old[at:]]).astype(old.dtype, copy=False))
    return out_ptr, out
