"""Related stories and same-story groups: TF-IDF text similarity combined with topics, tags and time.

How a story's related list is made (`compute_related`):

1. Terms: words of two or more letters or digits (lowercased, accents folded, English stop words
   dropped) and the bigrams of adjacent kept words, from the title
   (counted TITLE_WEIGHT times), the summary (SUMMARY_WEIGHT) and the first BODY_CHARS
   characters of the body. Weight: sublinear tf ``1 + ln(tf)`` times smooth idf
   ``ln((1 + N) / (1 + df)) + 1``. Terms found in one story only are left out (they can match
   nothing), and each story keeps its TOP_TERMS heaviest terms (and any tied with the last),
   L2-normalised.
2. Similarity: the cosine of those vectors, computed sparse (scipy's kernels, `related_sparse`),
   in blocks of rows. Weights are quantised to integers (2**-20) so that every sum is exact: the result does
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
story changes N, hence every idf: that is a full computation, which reads again only the stories
whose text changed. Term keys are stable 64-bit hashes (not Python's salted str hashes), so the
index pickled in the build cache is updated by the next `digest build` too. The pickle holds
arrays and flat lists only (docs and candidates as columns, decoded per story when read; the last
result as plain tuples), and the next process checks each story against a digest of its texts
(or a caller's stamp) and a string of everything else: after one edit it re-reads, relinks and
re-encodes only what the edit changed.

Modules: the text features (terms and names) are in `related_terms`; what the index keeps per
story (docs and candidates, as columns) is in `related_store`; what it gives the build (`Related`,
`related.json`) is in `related_result`, and imported here with the engine.

Cost: reading the texts (tokenising) is most of it. With `workers` > 1 on a large site, this
process reads a share of the texts while forked workers read the rest, and the similarity rows
are shared the same way (only from a single-threaded process). Figures: bench/RELATED.md.
"""

from __future__ import annotations

import math
from collections import abc
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

import numpy as np

from digest.forkmap import can_fork, fork_pool
from digest.model import Story
from digest.related_input import joined_key, story_meta, text_key
from digest.related_store import NO_DAY, CandidateColumns, Candidates, Doc, DocColumns, make_doc, replace_rows
from digest.related_sparse import Csr, matmul, take_rows, transpose
from digest.related_result import Related, RelatedLink, json_entry
from digest.related_terms import KEYS_VERSION, story_names, story_term_keys

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
CHUNK = 1 << 16  # term entries handled at once by the whole-site array passes (see _lookup)
_SCALE = 2**20  # weight quantum: integer sums are exact
STATE_FORMAT = 2  # the shape of the pickled index: an index pickled in another shape is rebuilt
_ARRAYS = ("t_ptr", "t_cols", "t_tf", "col_keys", "df", "kth", "days", "dated", "topic_bits", "topic_n", "tag_bits",
           "tag_n")  # pickled as they are


def _features(story: Story) -> tuple[np.ndarray, np.ndarray, frozenset[str]]:
    """(term keys, weighted counts, names) of one story: the costly part, done once per story."""
    keys, tf = story_term_keys(story)
    return keys, tf, story_names(story)


_FORKED: tuple | None = None  # (state, work) that forked workers run (inherited, not pickled)


def _can_fork(workers: int, n: int) -> bool:
    """Fork workers only when asked, for large inputs, on a platform that has fork, and from a
    single-threaded process (a fork of a threaded process can deadlock)."""
    return workers >= 2 and n >= PARALLEL_MIN and can_fork()


def _forked_work(span: tuple[int, int]) -> list:
    state, work = _FORKED
    return work(state, *span)


def _split_work(n: int, workers: int, state: object, work) -> list:
    """``work(state, lo, hi)`` (a list per item) over range(n): this process does the first share
    while `workers - 1` forked processes do the rest, one span each; results in order.

    One span, not several: a worker's result goes through a pipe that this process's result
    thread drains, and that thread waits for the GIL while this process works on its own share
    (5 ms at a time). A worker held up sending one span's result before starting the next lost
    0.1-0.35 s of a cold build at 10,000 stories; after its only span, it sends while this
    process waits."""
    global _FORKED
    share = n // workers
    step = -(-(n - share) // (workers - 1))
    spans = [(i, min(i + step, n)) for i in range(share, n, step)]
    _FORKED = (state, work)
    try:
        with fork_pool(workers - 1) as pool:
            pending = pool.map_async(_forked_work, spans, chunksize=1)
            mine = work(state, 0, share)
            parts = pending.get()
    finally:
        _FORKED = None
    return mine + [item for part in parts for item in part]


def _features_span(stories: Sequence[Story], lo: int, hi: int) -> list:
    return [_features(story) for story in stories[lo:hi]]


def _packed_features_span(stories: Sequence[Story], lo: int, hi: int) -> list:
    """`_features_span` and the stories' text keys, packed for the trip from a forked worker:
    one (lengths, keys, counts, names, text keys) entry, the stories' arrays concatenated. Two
    small arrays per story cost ~10 us each to pickle and unpickle (0.1-0.2 s at 10,000 stories,
    in the parent's critical path)."""
    return [(*_packed(_features_span(stories, lo, hi)), [text_key(story) for story in stories[lo:hi]])]


def _packed(features: Sequence[tuple[np.ndarray, np.ndarray, frozenset[str]]]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[frozenset[str]]]:
    """(term counts per story, every story's term keys concatenated, their counts, names) of
    per-story features."""
    empty = [np.zeros(0, dtype=np.int64)]
    return (np.array([len(keys) for keys, _, _ in features], dtype=np.int64),
            np.concatenate([f[0] for f in features] or empty), np.concatenate([f[1] for f in features] or empty),
            [f[2] for f in features])


def _all_features(stories: Sequence[Story], workers: int
                  ) -> tuple[list[tuple[np.ndarray, np.ndarray, frozenset[str]]], list[bytes]]:
    """(features, text key) of every story; with `workers` > 1, shared with forked processes
    (large sites), which read the text keys too (~10 us a story)."""
    if not _can_fork(workers, len(stories)):
        return _features_span(stories, 0, len(stories)), [text_key(story) for story in stories]
    lengths, keys, tf, names, texts = _all_features_packed(stories, workers)
    ends = np.cumsum(lengths)[:-1]
    return list(zip(np.split(keys, ends), np.split(tf, ends), names)), texts


def _all_features_packed(stories: Sequence[Story], workers: int
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[frozenset[str]], list[bytes]]:
    """`_all_features` as one `_packed_features_span` entry for all the stories: (term counts per
    story, every story's term keys concatenated, their counts, names, text keys). The shares of
    forked processes are joined as they arrive, not split per story (~0.1 s at 10,000 stories)."""
    if not _can_fork(workers, len(stories)):
        return _packed_features_span(stories, 0, len(stories))[0]
    parts = _split_work(len(stories), workers, stories, _packed_features_span)
    return (np.concatenate([part[0] for part in parts]), np.concatenate([part[1] for part in parts]),
            np.concatenate([part[2] for part in parts]), [n for part in parts for n in part[3]],
            [t for part in parts for t in part[4]])


def _spans(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions start..start+length-1 of every span, concatenated."""
    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(starts - (ends - lengths), lengths)


def _lookup(table: np.ndarray, keys: np.ndarray, dtype: type = np.int64) -> np.ndarray:
    """Positions of `keys` (uint64) in the sorted `table` of distinct keys, all of them present,
    as an array of `dtype`.

    Keys are uniform hashes: a bucket index on their top bits starts each search within a few
    entries of the answer (much faster than a binary search per key over a large table). Keys
    are looked up CHUNK at a time: the temporaries stay small and are reused, where a whole
    site's keys at once would take fresh memory for each (page faults: ~0.1 s at 10,000 stories).
    """
    out = np.empty(len(keys), dtype=dtype)
    if not len(keys):
        return out
    bits = max(1, int(len(table)).bit_length())
    shift = np.uint64(64 - bits)
    start = np.zeros(2**bits + 1, dtype=np.int64)
    np.cumsum(np.bincount((table >> shift).astype(np.int64), minlength=2**bits), out=start[1:])
    for lo in range(0, len(keys), CHUNK):
        part = keys[lo:lo + CHUNK]
        pos = start[(part >> shift).astype(np.int64)]
        todo = np.flatnonzero(table[np.minimum(pos, len(table) - 1)] != part)
        while len(todo):
            pos[todo] += 1
            todo = todo[table[pos[todo]] != part[todo]]
        out[lo:lo + len(part)] = pos
    return out


def _reserve(columns: int) -> int:
    """Spare columns kept after the `columns` used in `col_keys` and `df` (and saved with them):
    the new terms of edits take them in place. Growing the arrays instead copies them whole (~60 MB
    at 10,000 stories, 65 ms of a one-story rebuild); one story brings at most a few thousand."""
    return 1024 + columns // 64


# --------------------------------------------------------------------------- the index


class RelatedIndex:
    """Everything needed to compute related stories, and to update them after an edit.

    Build with `RelatedIndex(stories, story_topics, count)`, read `result()`, and call
    `update(stories, story_topics)` with the new stories after an edit. Only what an edit can
    change is recomputed: the stories whose pruned vector changed (they share a term whose
    document frequency changed, and that term is or becomes one of their TOP_TERMS) get their
    row recomputed; every other story merges its new scores against those into its kept
    candidates (or is recomputed when its kept list ran short). The result equals a full
    computation. Adding or removing a story changes every idf (N changes): a full computation,
    which reads again only the stories whose text changed. Term keys are stable, so an index
    pickled by one process (the build cache) is updated by the next.

    State: the stories' terms as a CSR table (`t_ptr`, `t_cols`, `t_tf`; a row per story in
    slug order), each column's key (`col_keys`: sorted, then the keys first seen in updates)
    and document frequency (`df`), the pruned vectors (`X`, sparse, quantised), each story's
    TOP_TERMS-th weight (`kth`), the docs (`docs`: columns, see `DocColumns`) and best candidates
    (`cands`: CSR columns, see `CandidateColumns`). What result() made is kept per story with the versions of
    the doc and candidates it was made from (`_doc_ver`, `_cand_ver`), and pickled while valid.
    """

    def __init__(self, stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]], count: int = 5,
                 workers: int = 1, stamps: Mapping[str, str] | None = None) -> None:
        """The index of `stories`; `stamps` as `update` takes them (kept for the next update)."""
        self.count = count
        self.workers = workers
        self.keep = max(CANDIDATES, 3 * count)
        self._full(list(stories), story_topics)
        if stamps is not None:
            self.stamps = [stamps.get(slug) for slug in self.slugs]

    def __getstate__(self) -> dict:
        """Pickled compactly (the build cache): arrays and flat lists only (docs and candidates as
        columns, the last result as plain tuples), no transpose of X, counts and weights in the
        smallest integer type that holds them (widened again on unpickling)."""
        if getattr(self, "stale", True):  # nothing usable: the next update recomputes in full
            return {"count": self.count, "keep": self.keep, "workers": self.workers}
        state = {name: getattr(self, name) for name in _ARRAYS}
        state.update(format=STATE_FORMAT, keys_version=self.keys_version, count=self.count, keep=self.keep,
                     workers=self.workers, slugs=self.slugs, stamps=self.stamps, n_sorted=self.n_sorted,
                     n_cols=self.n_cols, extra=self.extra,
                     docs=self.docs.state(), cands=self.cands.state(), results=self._results_state())
        state["t_tf"] = self.t_tf.astype(_narrow(self.t_tf), copy=False)
        # kept narrow: a document frequency stays <= N (not <= its largest value: an edit can pass that)
        state["df"] = self.df.astype(_narrow(np.array([len(self.slugs)])), copy=False)
        if self._x is None:
            state["X"] = self._x_parts
        else:
            x = self._x
            state["X"] = (x.indptr, x.indices, x.data.astype(np.int32), x.shape)  # weights <= _SCALE
        return state

    def __setstate__(self, state: dict) -> None:
        """An index pickled by another digest, or damaged, is kept as `stale`: `update` then
        recomputes in full."""
        self.count, self.keep, self.workers = state.get("count", -1), state.get("keep", CANDIDATES), state.get("workers", 1)
        self.stale = True
        if state.get("format") != STATE_FORMAT or state.get("keys_version") != KEYS_VERSION:
            return
        try:
            self._load(state)
        except (KeyError, ValueError, TypeError, IndexError, AttributeError):
            return
        self.stale = False

    def _load(self, state: dict) -> None:
        self.keys_version = KEYS_VERSION
        self.slugs = list(state["slugs"])
        self.pos = {slug: i for i, slug in enumerate(self.slugs)}
        n = len(self.slugs)
        self.stamps = list(state["stamps"])
        if len(self.stamps) != n or not all(x is None or isinstance(x, str) for x in self.stamps):
            raise ValueError("inconsistent stamps")
        for name in _ARRAYS:
            setattr(self, name, state[name])
        self.n_sorted, self.n_cols, self.extra = int(state["n_sorted"]), int(state["n_cols"]), dict(state["extra"])
        indptr, indices, data, shape = state["X"]  # made a matrix when first used (a text edit)
        self._x, self._x_parts = None, (np.asarray(indptr), np.asarray(indices), np.asarray(data), tuple(shape))
        if (len(self.pos) != n or len(self.t_ptr) != n + 1 or not int(self.t_ptr[-1]) == len(self.t_cols) == len(self.t_tf)
                or len(self.kth) != n or len(self.days) != n or shape[0] != n or len(indptr) != n + 1
                or not int(indptr[-1]) == len(indices) == len(data)
                or not self.n_sorted <= self.n_cols <= len(self.col_keys) == len(self.df)):
            raise ValueError("inconsistent index")
        self.docs = DocColumns.from_state(self.slugs, self.pos, state["docs"])
        self.cands = CandidateColumns.from_state(self.slugs, self.pos, state["cands"])
        self._xt = None
        self._idf_n, self._idf, self._tfw = -1, np.zeros(0), []
        self._texts = {}
        self._reset_results()
        self._results_load(state["results"])

    # ---- building

    def _known_features(self) -> dict[bytes, tuple[np.ndarray, np.ndarray, frozenset[str]]]:
        """Features of the current stories by text key (reused by a full recomputation)."""
        if getattr(self, "stale", True):
            return {}
        out = {}
        for i in range(len(self.slugs)):
            lo, hi = self.t_ptr[i], self.t_ptr[i + 1]
            out[self.docs.text[i]] = (self.col_keys[self.t_cols[lo:hi]].view(np.int64), self.t_tf[lo:hi],
                                      frozenset(self.docs.labels("names", i)))
        return out

    def _full(self, stories: list[Story], story_topics: Mapping[str, Sequence[str]]) -> None:
        known = self._known_features()
        self.keys_version = KEYS_VERSION
        stories = sorted(stories, key=lambda s: s.slug)
        self.slugs = [s.slug for s in stories]
        self.pos = {slug: i for i, slug in enumerate(self.slugs)}
        self._idf_n, self._idf, self._tfw = -1, np.zeros(0), []
        if known:  # the stories whose texts the index read already keep their features
            texts = [text_key(s) for s in stories]
            todo = [i for i, text in enumerate(texts) if text not in known]
            found, _ = _all_features([stories[i] for i in todo], self.workers)
            fresh = dict(zip(todo, found))
            lengths, keys, tf, names = _packed([fresh[i] if i in fresh else known[texts[i]] for i in range(len(stories))])
            del known, fresh, found
        else:  # a first computation: every process reads the text keys with the features, and
            # sends them packed (the stories' arrays concatenated, as they are kept here)
            lengths, keys, tf, names, texts = _all_features_packed(stories, self.workers)
        self._texts = {s.slug: (s.title, s.summary, s.body, text) for s, text in zip(stories, texts)}
        self._last = {s.slug: (s, story_topics.get(s.slug, ())) for s in stories}  # what the docs now hold
        self.stamps: list[str | None] = [None] * len(stories)  # see update(): what each row's text key was made from
        self.docs = DocColumns(self.slugs, self.pos)
        self.docs.replace({i: make_doc(s, story_topics.get(s.slug, ()), found, text, story_meta(s, story_topics.get(s.slug, ())))
                           for i, (s, found, text) in enumerate(zip(stories, names, texts))})
        keys = keys.view(np.uint64)
        self.t_tf = tf.astype(np.int32)
        del tf, names
        self.t_ptr = np.zeros(len(stories) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.t_ptr[1:])
        ordered = np.sort(keys)
        first = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]])) if len(ordered) else np.zeros(0, dtype=np.int64)
        # col_keys[:n_sorted] is sorted; then the keys first seen in updates, up to n_cols; then spare
        self.n_sorted = self.n_cols = len(first)
        self.col_keys = np.zeros(len(first) + _reserve(len(first)), dtype=np.uint64)
        np.take(ordered, first, out=self.col_keys[:len(first)])
        self.extra: dict[int, int] = {}
        self.df = np.zeros(len(self.col_keys), dtype=np.int32)
        self.df[:len(first)] = np.diff(np.append(first, len(ordered)))
        del ordered, first
        self.t_cols = _lookup(self.col_keys[:self.n_sorted], keys, np.int32)
        del keys
        self.kth = np.full(len(stories), -np.inf)
        x_ptr, x_cols, x_vals = self._vectors(np.arange(len(stories)))
        self._set_x(x_ptr, x_cols, x_vals)
        self._side_arrays()
        self.cands = CandidateColumns(self.slugs, self.pos)
        self._reset_results()
        self.stale = False
        self._compute_rows(self.slugs)

    @property
    def X(self):  # noqa: N802 -- the matrix of the notes: rows are stories' pruned vectors
        """The pruned, quantised vectors (CSR arrays, int64 weights), made from the pickled parts
        when first used."""
        if self._x is None:
            indptr, indices, data, shape = self._x_parts
            self._x = Csr(indptr, indices, data.astype(np.int64), shape)
            self._x_parts = None
        return self._x

    def _set_x(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
        self._x = Csr(indptr, indices, data, (len(self.slugs), max(self.n_cols, 1)))
        self._x_parts, self._xt = None, None

    @property
    def XT(self):  # noqa: N802
        if self._xt is None:
            self._xt = transpose(self.X)
        return self._xt

    def _columns(self, keys: np.ndarray) -> np.ndarray:
        """Column ids of term keys, adding columns for terms never seen."""
        keys = keys.view(np.uint64)
        table = self.col_keys[:self.n_sorted]
        if len(table):
            at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
            found = table[at] == keys
        else:
            at, found = np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
        cols = at.astype(np.int64)
        new = []
        for i in np.flatnonzero(~found).tolist():
            key = int(keys[i])
            if key not in self.extra:
                self.extra[key] = self.n_cols + len(new)
                new.append(key)
            cols[i] = self.extra[key]
        if new:
            used = self.n_cols + len(new)
            if used > len(self.col_keys):  # the reserve is spent: grown, with a new reserve
                spare = used + _reserve(used) - len(self.col_keys)
                self.col_keys = np.concatenate([self.col_keys, np.zeros(spare, dtype=np.uint64)])
                self.df = np.concatenate([self.df, np.zeros(spare, dtype=self.df.dtype)])
            self.col_keys[self.n_cols:used] = new  # their df is 0 until counted
            self.n_cols = used
        return cols

    def _vectors(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, column ids, quantised weights) of the pruned, normalised TF-IDF vectors of
        `rows` (sorted row numbers); sets their `kth`.

        Per story the result depends only on its own terms, their df and N, whatever else is
        in the batch: so a partial recomputation gives the same bits as a full one, and the rows
        are done CHUNK term entries at a time (small temporaries, reused: see `_lookup`).
        """
        if not len(rows):
            return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
        per_row = max(1, int(self.t_ptr[-1]) // max(1, len(self.slugs)))
        step = max(1, CHUNK // per_row)
        parts = [self._vectors_of(rows[lo:lo + step]) for lo in range(0, len(rows), step)]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        at = total = 0
        for part_ptr, part_cols, _ in parts:
            indptr[at + 1:at + len(part_ptr)] = part_ptr[1:] + total
            at += len(part_ptr) - 1
            total += len(part_cols)
        return (indptr, np.concatenate([part[1] for part in parts]), np.concatenate([part[2] for part in parts]))

    def _vectors_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`_vectors` of some rows at once."""
        starts, lengths = self.t_ptr[rows], self.t_ptr[rows + 1] - self.t_ptr[rows]
        if int(rows[-1]) - int(rows[0]) + 1 == len(rows):  # consecutive rows (a full computation)
            at: np.ndarray | slice = slice(int(self.t_ptr[rows[0]]), int(self.t_ptr[rows[-1] + 1]))
        else:
            at = _spans(starts, lengths)
        cols, tf = self.t_cols[at].astype(np.int64), self.t_tf[at]
        row = np.repeat(np.arange(len(rows)), lengths)
        df = self.df[cols]
        ok = df >= 2  # a term of one story only matches nothing
        cols, tf, row, df = cols[ok], tf[ok], row[ok], df[ok]
        w = self._weights(tf, df)
        # the TOP_TERMS heaviest terms of each row, and every term tied with the last of them
        counts = np.bincount(row, minlength=len(rows))
        ends = np.cumsum(counts)
        kth = np.full(len(rows), -np.inf)
        long = np.flatnonzero(counts > TOP_TERMS)
        for i, lo, hi in zip(long.tolist(), (ends - counts)[long].tolist(), ends[long].tolist()):
            kth[i] = np.partition(w[lo:hi], hi - lo - TOP_TERMS)[hi - lo - TOP_TERMS]  # rows are contiguous
        self.kth[rows] = kth
        keep = w >= kth[row]
        cols, w, row = cols[keep], w[keep], row[keep]
        norm = np.sqrt(np.bincount(row, weights=w * w, minlength=len(rows)))
        vals = np.rint(w / norm[row] * _SCALE).astype(np.int64)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=len(rows)), out=indptr[1:])
        return indptr, cols.astype(np.int32), vals

    def _weights(self, tf: np.ndarray, df: np.ndarray) -> np.ndarray:
        """TF-IDF weights ``(1 + ln tf) * (ln((1 + N) / (1 + df)) + 1)`` from tables of scalar
        logarithms: the same bits for a (tf, df) pair wherever it sits in an array (numpy's
        vectorised log may round the last bit differently by position)."""
        n = len(self.slugs)
        if self._idf_n != n:
            self._idf = np.array([math.log((1 + n) / (1 + d)) + 1.0 for d in range(n + 2)])
            self._idf_n = n
        top = int(tf.max()) if len(tf) else 0
        while len(self._tfw) <= top:
            self._tfw.append(1.0 + math.log(len(self._tfw)) if self._tfw else 0.0)
        return np.asarray(self._tfw)[tf] * self._idf[df]

    def _side_arrays(self) -> None:
        """Dates and topic/tag incidence of the stories, by row (from the docs' columns)."""
        self.days = self.docs.day.copy()
        self.dated = self.days != NO_DAY
        self.topic_bits, self.topic_n = _incidence(*self.docs.sets["topics"])
        self.tag_bits, self.tag_n = _incidence(*self.docs.sets["tags"])

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
        qualifying row (every pair reaching MIN_SCORE), best first. Many rows: shared with forked
        workers (`workers` > 1)."""
        order = np.array(sorted(self.pos[s] for s in slugs), dtype=np.int64)
        few = len(order) * 8 < len(self.slugs)
        if not few and _can_fork(self.workers, len(order)):
            self.XT  # noqa: B018 -- made once, before the fork, and inherited
            rows = _split_work(len(order), self.workers, (self, order, full_rows), _rows_span)
        else:
            rows = _rows_span((self, order, full_rows), 0, len(order), few)
        out, new = {}, {}
        for row, items, truncated in rows:
            new[row] = Candidates(items[:self.keep], truncated=truncated)
            if full_rows:
                out[self.slugs[row]] = items
        self._set_cands(new)
        return out

    def _set_cands(self, new: dict[int, Candidates]) -> None:
        """Store new candidate lists (row -> candidates); a list equal to the kept one is not
        replaced (what result() made from it stays valid)."""
        if len(new) < len(self.slugs):
            new = {r: c for r, c in new.items() if c != self.cands.row(r)}
        if new:
            self.cands.replace(new)
            for row in new:
                self._cand_ver[row] += 1

    def _block(self, rows: np.ndarray, full_rows: bool, few: bool) -> Iterable[tuple[int, list, bool]]:
        """(k, candidates best first, truncated) of each row rows[k] of the similarity matrix.

        The product is sparse: only pairs reaching MIN_COSINE are scored. A row with more than
        `keep` of them (a crowded topic) is cut first at its keep-th best cosine minus the largest
        bonus, below which no pair can make its list; this changes nothing but the work."""
        keep = self.keep
        if few and self._xt is None:  # a few rows (an update): cheaper than transposing X
            product = transpose(matmul(self.X, transpose(take_rows(self.X, rows))))
        else:
            product = matmul(take_rows(self.X, rows), self.XT)
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

    def update(self, stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]],
               stamps: Mapping[str, str] | None = None) -> set[str]:
        """Bring the index up to date with `stories`; returns the slugs whose rows were recomputed.

        `stamps` (optional): slug -> a string that is the same in two calls (in any process) only
        if the story's title, summary and body are the same, e.g. a hash of the file they are
        parsed from alone; a story whose stamp did not change is not digested again."""
        stories = list(stories)
        new = {s.slug: s for s in stories}
        if getattr(self, "stale", True) or new.keys() != self.pos.keys():
            # N changed (every idf changes), or an index pickled by another digest: full
            self._full(stories, story_topics)
            if stamps is not None:
                self.stamps = [stamps.get(slug) for slug in self.slugs]
            return set(self.slugs)
        return self._absorb(new, story_topics, stamps)

    def update_some(self, stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]],
                    stamps: Mapping[str, str]) -> set[str] | None:
        """`update` for a few stories whose text or metadata may have changed, every other story
        being as this index last saw it (by its stamp; see `drifted`); the set of stories stays the
        same. Returns the recomputed slugs, or None when that does not hold (call `update`)."""
        new = {s.slug: s for s in stories}
        if getattr(self, "stale", True) or not all(slug in self.pos for slug in new):
            return None
        return self._absorb(new, story_topics, stamps)

    def drifted(self, stamps: Mapping[str, str]) -> list[str] | None:
        """The slugs whose stamp differs from the one this index last read them with (None when the
        stories are not the same set)."""
        if getattr(self, "stale", True) or len(stamps) != len(self.slugs):
            return None
        kept = self.stamps
        out = []
        for slug, row in self.pos.items():
            stamp = stamps.get(slug)
            if stamp is None:
                return None
            if stamp != kept[row]:
                out.append(slug)
        return out

    def _absorb(self, new: Mapping[str, Story], story_topics: Mapping[str, Sequence[str]],
                stamps: Mapping[str, str] | None) -> set[str]:
        changed, texts, docs, pos, kept_stamps = {}, self._texts, self.docs, self.pos, self.stamps
        last = self.__dict__.setdefault("_last", {})  # this process's last update: slug -> (story, topics)
        for slug, story in new.items():
            row = pos[slug]
            stamp = None if stamps is None else stamps.get(slug)
            topics = story_topics.get(slug, ())
            before = last.get(slug)
            if before is not None and before[0] is story and before[1] is topics:
                kept_stamps[row] = stamp
                continue  # the very objects of the last update (serve, which keeps parsed stories)
            last[slug] = (story, topics)
            seen = texts.get(slug)  # this process's text objects: the same objects, the same texts
            if seen is not None and seen[0] is story.title and seen[1] is story.summary and seen[2] is story.body:
                text = seen[3]
            elif stamp is not None and stamp == kept_stamps[row]:
                text = docs.text[row]
            else:
                text = text_key(story)
                texts[slug] = (story.title, story.summary, story.body, text)
            kept_stamps[row] = stamp
            meta = story_meta(story, topics)
            if text != docs.text[row] or meta != docs.meta[row]:  # cheap: no tokenising
                changed[row] = (story, text, meta)
        if not changed:
            return set()
        rows = np.array(sorted(changed), dtype=np.int64)
        new_terms, gone, came, side, new_docs = [], [], [], False, {}
        for row in rows.tolist():
            slug = self.slugs[row]
            story, text, meta = changed[row]
            old_doc = docs[slug]
            if text == old_doc.text:  # dates, tags, topics...: same terms
                lo, hi = self.t_ptr[row], self.t_ptr[row + 1]
                keys, tf, names = self.col_keys[self.t_cols[lo:hi]].view(np.int64), self.t_tf[lo:hi], old_doc.names
            else:
                keys, tf, names = _features(story)
            new_docs[row] = doc = make_doc(story, story_topics.get(slug, ()), names, text, meta)
            side |= (doc.day, doc.topics, doc.tags) != (old_doc.day, old_doc.topics, old_doc.tags)
            cols = self._columns(keys)
            old_cols = self.t_cols[self.t_ptr[row]:self.t_ptr[row + 1]]
            gone.append(np.setdiff1d(old_cols, cols))
            came.append(np.setdiff1d(cols, old_cols))
            new_terms.append((cols, tf))
        docs.replace(new_docs)
        for row in new_docs:
            self._doc_ver[row] += 1
            self._dirty.add(self.slugs[row])
        new_ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(c) for c, _ in new_terms], out=new_ptr[1:])
        new_tf = np.concatenate([t for _, t in new_terms]).astype(np.int32)
        if len(new_tf) and int(new_tf.max()) > np.iinfo(self.t_tf.dtype).max:  # counts kept narrow since unpickled
            self.t_tf = self.t_tf.astype(np.int32)
        self.t_ptr, (self.t_cols, self.t_tf) = replace_rows(
            self.t_ptr, [self.t_cols, self.t_tf], rows, new_ptr,
            [np.concatenate([c for c, _ in new_terms]).astype(np.int32), new_tf])
        gone_cols, came_cols = np.concatenate(gone), np.concatenate(came)
        touched = np.unique(np.concatenate([gone_cols, came_cols]))
        old_df = self.df[touched].copy()
        np.subtract.at(self.df, gone_cols, 1)
        np.add.at(self.df, came_cols, 1)
        # A story's vector changes only if a term whose df changed is, or becomes, one of its
        # kept terms: its weight reaches the story's TOP_TERMS-th weight before or after.
        hit = np.zeros(len(self.df), dtype=bool)
        hit[touched] = True
        at = np.flatnonzero(hit[self.t_cols])
        holder = np.searchsorted(self.t_ptr, at, side="right") - 1
        cols, tf = self.t_cols[at].astype(np.int64), self.t_tf[at]
        df_old, df_new = old_df[np.searchsorted(touched, cols)], self.df[cols]
        w_old = np.where(df_old >= 2, self._weights(tf, df_old), -np.inf)
        w_new = np.where(df_new >= 2, self._weights(tf, df_new), -np.inf)
        moved = (w_old >= self.kth[holder]) | (w_new >= self.kth[holder])
        affected_rows = np.union1d(rows, holder[moved])
        affected = {self.slugs[r] for r in affected_rows.tolist()}
        x_ptr, x_cols, x_vals = self._vectors(affected_rows)
        ptr, (indices, data) = replace_rows(self.X.indptr, [self.X.indices, self.X.data], affected_rows,
                                                  x_ptr, [x_cols, x_vals])
        self._set_x(ptr, indices, data)
        if side:
            self._side_arrays()
        fresh = self._compute_rows(sorted(affected), full_rows=True)
        # Every other story: its scores against unaffected stories are unchanged; merge in
        # its new scores against the affected ones (scores are symmetric).
        incoming: dict[str, list[tuple[float, float, str]]] = {}
        for a, row in fresh.items():
            for score, cos, b in row:
                if b not in affected:
                    incoming.setdefault(b, []).append((score, cos, a))
        recompute, merged_rows = [], {}
        todo = set(self.cands.naming(affected_rows).tolist()) | {self.pos[b] for b in incoming}
        for row in sorted(todo - set(affected_rows.tolist())):  # only the lists that name or gain an affected story
            b = self.slugs[row]
            cand = self.cands.row(row)
            arrived = incoming.get(b, [])
            kept = [c for c in cand.items if c[2] not in affected]
            if cand.truncated and len(kept) < len(cand.items):
                recompute.append(b)  # what ranked below the kept ones is unknown
                continue
            if cand.truncated:
                floor = _key(kept[-1])
                merged = sorted(kept + [c for c in arrived if _key(c) < floor], key=_key)
            else:
                merged = sorted(kept + arrived, key=_key)
            merged_rows[row] = Candidates(merged[:self.keep], truncated=cand.truncated or len(merged) > self.keep)
        self._set_cands(merged_rows)
        if recompute:
            self._compute_rows(recompute)
        return affected | set(recompute)

    # ---- the result

    def input_keys(self) -> dict[str, str]:
        """What the index read of each story: slug -> `related_input.input_key` (from the kept docs,
        without reading the stories again)."""
        return {slug: joined_key(text, meta) for slug, text, meta in zip(self.slugs, self.docs.text, self.docs.meta)}

    def _reset_results(self) -> None:
        """Forget what result() kept (a full computation): every list is made again."""
        n = len(self.slugs)
        self._doc_ver, self._cand_ver = [0] * n, [0] * n  # bumped when a row's doc / candidates are replaced
        self._dirty: set[str] = set()  # stories whose doc was replaced since the last result()
        self._memo: dict[str, list] = {}  # slug -> [doc ver, cand ver, links, warnings, links as plain tuples]
        self._edges: dict[str, tuple] = {}  # slug -> (doc ver, cand ver, group edges)
        self._groups_kept: dict[str, tuple[str, ...]] | None = None
        self._json: dict[str, tuple] = {}  # slug -> (memo entry, group, related.json entry)

    def result(self) -> Related:
        """The related lists and groups for the current stories.

        Each story's list is kept with the versions of its doc and candidates it was made from:
        a later call (or, through the pickle, a later process) recomputes only the lists whose
        doc or candidates an update replaced, or that name a story whose doc was replaced, and
        the groups only when some story's group links changed. A list not recomputed is the
        same object as in the last call of this process."""
        if getattr(self, "stale", True):
            raise ValueError("an index pickled by another digest: call update() first")
        memo, dirty, dv, cv = self._memo, self._dirty, self._doc_ver, self._cand_ver
        warnings: list[str] = []
        entries = []
        made = []
        for row, slug in enumerate(self.slugs):
            kept = memo.get(slug)
            if (kept is None or kept[0] != dv[row] or kept[1] != cv[row]
                    or (dirty and not dirty.isdisjoint(_listed(kept)))):
                kept = memo[slug] = [dv[row], cv[row], *self._links(slug, self.docs[slug], self.cands.row(row)), None]
                made.append(slug)
            if kept[3]:
                warnings.extend(kept[3])
            entries.append(kept)
        links = _Links(self.pos, entries)
        edges, groups = self._edges, self._groups_kept
        near = set(self.cands.naming(np.array(sorted(self.pos[s] for s in dirty), dtype=np.int64)).tolist())
        for row, slug in enumerate(self.slugs):
            kept = edges.get(slug)
            if kept is None or kept[0] != dv[row] or kept[1] != cv[row] or row in near:
                new_edges = self._group_edges(slug, self.docs[slug], self.cands.row(row))
                if kept is None or kept[2] != new_edges or (groups is not None and slug in groups):
                    groups = None  # a group link came or went, or a member's date moved: found again
                edges[slug] = (dv[row], cv[row], new_edges)
        self._dirty = set()
        if groups is None:
            groups = self._groups_kept = self._groups(edges)
        return Related(links, MappingProxyType(groups), tuple(warnings), frozenset(made),
                       json_entries=lambda: self._json_entries(entries, groups))

    def _json_entries(self, entries: list[list], groups: Mapping[str, tuple[str, ...]]) -> list[str]:
        """The related.json entry of every story (slug order) for the result made of `entries`."""
        out = []
        for slug, entry in zip(self.slugs, entries):
            group = groups.get(slug, ())
            kept = self._json.get(slug)
            if kept is None or kept[0] is not entry or kept[1] != group:
                seen = set(group)
                items = tuple(group) + tuple(slug for slug in _listed(entry) if slug not in seen)
                kept = self._json[slug] = (entry, group, json_entry(slug, items))
            out.append(kept[2])
        return out

    def _results_state(self) -> dict:
        """What result() kept and is still valid, as plain tuples (for the pickle)."""
        n, dirty = len(self.slugs), self._dirty
        memo, links, warnings, json_ = self._memo, [None] * n, {}, [None] * n
        groups = self._groups_kept
        near = set(self.cands.naming(np.array(sorted(self.pos[s] for s in dirty), dtype=np.int64)).tolist())
        edges_ok = groups is not None and len(self._edges) == n
        edges = {}
        for row, slug in enumerate(self.slugs):
            kept = memo.get(slug)
            if (kept is not None and kept[0] == self._doc_ver[row] and kept[1] == self._cand_ver[row]
                    and (not dirty or dirty.isdisjoint(_listed(kept)))):
                if kept[4] is None:
                    kept[4] = tuple([(x.slug, x.score, x.reasons, x.pinned) for x in kept[2]])
                links[row] = kept[4]
                if kept[3]:
                    warnings[row] = kept[3]
                entry = self._json.get(slug)
                if groups is not None and entry is not None and entry[0] is kept and entry[1] == groups.get(slug, ()):
                    json_[row] = entry[2]
            if edges_ok:
                kept_edges = self._edges[slug]
                edges_ok = kept_edges[0] == self._doc_ver[row] and kept_edges[1] == self._cand_ver[row] and row not in near
                if kept_edges[2]:
                    edges[row] = tuple(kept_edges[2])
        return {"links": links, "warnings": warnings, "json": json_,
                "edges": edges if edges_ok else None, "groups": groups if edges_ok else None}

    def _results_load(self, state: dict) -> None:
        """Take back what `_results_state` kept: valid for the pickled state (versions 0 here)."""
        links, warnings, json_, edges, groups = (state[k] for k in ("links", "warnings", "json", "edges", "groups"))
        if len(links) != len(self.slugs) or len(json_) != len(self.slugs):
            raise ValueError("inconsistent results")
        for row, slug in enumerate(self.slugs):
            if links[row] is not None:
                entry = self._memo[slug] = [0, 0, None, warnings.get(row, ()), tuple(links[row])]
                if json_[row] is not None and groups is not None:
                    self._json[slug] = (entry, groups.get(slug, ()), json_[row])
        if edges is not None and groups is not None:
            empty = frozenset()
            self._edges = {slug: (0, 0, frozenset(edges[row]) if row in edges else empty) for row, slug in enumerate(self.slugs)}
            self._groups_kept = dict(groups)

    def _links(self, slug: str, doc: Doc, cand: Candidates) -> tuple[tuple[RelatedLink, ...], tuple[str, ...]]:
        """(the story's related list, warnings); it reads the docs of the stories it lists."""
        by_slug = {c[2]: c for c in cand.items}
        chosen: list[RelatedLink] = []
        warnings: list[str] = []
        taken = {slug}
        for pin in doc.pins:
            if pin in taken:
                continue
            if pin not in self.pos:
                warnings.append(f"{slug}: related story '{pin}' is not among the built stories; left out")
                continue
            taken.add(pin)
            score = by_slug[pin][0] if pin in by_slug else 0.0
            chosen.append(RelatedLink(pin, score, self._reasons(doc, self.docs[pin]), pinned=True))
        for score, _, other in cand.items:
            if len(chosen) >= self.count:
                break
            if other in taken or other in doc.unrelated:
                continue
            taken.add(other)
            chosen.append(RelatedLink(other, score, self._reasons(doc, self.docs[other])))
        return tuple(chosen), tuple(warnings)

    def _reasons(self, a: Doc, b: Doc) -> tuple[str, ...]:
        names = sorted(a.names & b.names, key=lambda n: (-n.count(" "), n))  # names are " "-joined words
        tags = sorted(a.tags & b.tags)
        return tuple(tags[:2] + names[: max(0, 4 - len(tags[:2]))])

    def _group_edges(self, slug: str, a: Doc, cand: Candidates) -> frozenset[str]:
        """The stories `slug` reports as the same story (same event, other outlet, close in time)."""
        out = []
        for _, cos, other in cand.items:
            b = self.docs[other]
            if a.source and b.source and a.source == b.source:
                continue
            if a.day is not None and b.day is not None:
                ok = cos >= GROUP_COSINE and abs(a.day - b.day) <= GROUP_DAYS
            else:
                ok = cos >= GROUP_COSINE_UNDATED
            if ok and other not in a.unrelated and slug not in b.unrelated:
                out.append(other)
        return frozenset(out)

    def _groups(self, edges: Mapping[str, tuple]) -> dict[str, tuple[str, ...]]:
        parent = {slug: slug for slug in self.slugs}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for slug in self.slugs:
            for other in sorted(edges[slug][2]):
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
            day = self.docs.day
            ordered = sorted(group, key=lambda s: (day[self.pos[s]] == NO_DAY, int(day[self.pos[s]]), s))
            for slug in group:
                groups[slug] = tuple(s for s in ordered if s != slug)
        return groups


def _rows_span(state: tuple, lo: int, hi: int, few: bool = False) -> list[tuple[int, list, bool]]:
    """(row, candidates best first, truncated) of the rows order[lo:hi], in blocks of BLOCK rows."""
    index, order, full_rows = state
    out = []
    for start in range(lo, hi, BLOCK):
        rows = order[start:min(start + BLOCK, hi)]
        out += [(int(rows[k]), items, truncated) for k, items, truncated in index._block(rows, full_rows, few)]
    return out


def _incidence(ptr: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bit masks: one row of uint64 words per story, set sizes) of the stories' label sets, given
    as CSR rows of label ids (only shared counts and sizes matter, not which bit is which label)."""
    labels, at = np.unique(ids, return_inverse=True)
    sizes = np.diff(ptr)
    bits = np.zeros((len(sizes), (len(labels) + 63) // 64), dtype=np.uint64)
    rows = np.repeat(np.arange(len(sizes)), sizes)
    at = at.astype(np.int64)
    np.bitwise_or.at(bits, (rows, at // 64), np.left_shift(np.uint64(1), (at % 64).astype(np.uint64)))
    return bits, sizes


class _Links(abc.Mapping):
    """slug -> its related list (`RelatedLink`s). A list kept as plain tuples (as unpickled) is made
    into links when first read, once: a rebuild that reads a few lists does not make them all."""

    def __init__(self, rows: Mapping[str, int], entries: list[list]):
        self._rows, self._entries = rows, entries

    def __getitem__(self, slug: str) -> tuple[RelatedLink, ...]:
        kept = self._entries[self._rows[slug]]
        if kept[2] is None:
            kept[2] = tuple([RelatedLink(*x) for x in kept[4]])
        return kept[2]

    def __contains__(self, slug: object) -> bool:
        return slug in self._rows

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def _listed(kept: list) -> list[str]:
    """The slugs a kept related list names (the docs it read), from its links or its plain tuples."""
    return [x[0] for x in kept[4]] if kept[4] is not None else [x.slug for x in kept[2]]


def _narrow(counts: np.ndarray) -> type:
    """The smallest unsigned integer type that holds the (non-negative) `counts`."""
    top = int(counts.max()) if len(counts) else 0
    return np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.int32


def _key(c: tuple[float, float, str]) -> tuple[float, str]:
    return (-c[0], c[2])


def compute_related(stories: Iterable[Story], story_topics: Mapping[str, Sequence[str]], count: int = 5,
                    workers: int = 1) -> Related:
    """Related stories (pins first, up to `count`) and same-story groups of every story.

    `workers` > 1 reads the stories' texts in that many forked processes (large sites only).
    """
    return RelatedIndex(stories, story_topics, count, workers).result()
