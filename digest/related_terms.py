"""The text features of related stories: a story's terms (words and bigrams of its title, summary
and body start) as stable 64-bit keys with weighted counts, and the names it mentions.

Words are two or more letters or digits, lowercased, accents folded, English stop words dropped;
a title word counts TITLE_WEIGHT times, a summary word SUMMARY_WEIGHT, and only the first
BODY_CHARS characters of the body are read (NAME_CHARS for names). Keys are deterministic (not
Python's salted str hashes), so an index pickled by one process is read by another. Pure.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from itertools import repeat
from typing import Sequence

import numpy as np

from digest.model import Story
from digest.related_input import BODY_CHARS, NAME_CHARS

TITLE_WEIGHT = 3  # integers: a title word counts as TITLE_WEIGHT body words
SUMMARY_WEIGHT = 1
KEYS_VERSION = 5  # how term keys are made: an index pickled with other keys is rebuilt

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


# Term keys: a deterministic 64-bit hash of each word (blake2b), and a mix of the two word keys for
# a bigram, so that an index pickled by one process can be updated by another. A text is cut into
# chunks at ASCII non-word characters in one C pass (bytes.translate + split, which also lowercases
# ASCII); each distinct chunk is read once per process (_CHUNKS memo): an ASCII chunk is one word,
# a chunk with other characters is folded and tokenised like `_words` (it may hold 0, 1 or more
# words). The result equals hashing the words of `_words` (tests/unit/test_related.py checks it).
_STOP_KEY, _UNKNOWN, _SEVERAL, _BREAK = 0, 1, 2, 3  # chunk memo values that are not word keys
_WORD_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789_"
_TABLE = bytes(c + 32 if 65 <= c <= 90 else c if c in _WORD_BYTES or c >= 128 else 32 for c in range(256))
_CHUNKS: dict[bytes, int] = ({w.encode(): _STOP_KEY for w in _STOP} | {bytes([c]): _STOP_KEY for c in _WORD_BYTES}
                             | {b"\xff": _BREAK})  # 0xff never occurs in UTF-8: it marks where a section ends
_CHUNK_PARTS: dict[bytes, np.ndarray] = {}  # chunks of several words: their keys
_M1 = np.uint64(0x9E3779B97F4A7C15)
_S31 = np.uint64(31)


def word_key(word: str) -> int:
    """The stable 64-bit key (signed; never 0..3) of one folded word: the same in every process."""
    key = int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little", signed=True)
    return key if not 0 <= key <= _BREAK else _BREAK + 1


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


def _word_keys(texts: Sequence[str]) -> np.ndarray:
    """Keys of the words of `texts` (as `_words` reads them), in order, a _BREAK after each text."""
    raw = b" \xff ".join(text.encode("utf-8", "surrogatepass") for text in texts) + b" \xff"
    chunks = raw.translate(_TABLE).split()
    keys = np.fromiter(map(_CHUNKS.get, chunks, repeat(_UNKNOWN)), dtype=np.int64, count=len(chunks))
    if (keys == _UNKNOWN).any():
        for i in np.flatnonzero(keys == _UNKNOWN).tolist():
            if chunks[i] not in _CHUNKS:
                _learn(chunks[i])
            keys[i] = _CHUNKS[chunks[i]]
    keys = keys[keys != _STOP_KEY]
    if (keys == _SEVERAL).any():
        keys = np.concatenate([_CHUNK_PARTS[c] if k == _SEVERAL else np.array([k], dtype=np.int64)
                               for c, k in zip([c for c in chunks if _CHUNKS[c] != _STOP_KEY], keys.tolist())])
    return keys


def bigram_keys(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Stable keys of the bigrams (first[i], second[i]) of word keys (order-sensitive; word keys are
    uniform 64-bit hashes, so a multiply-add keeps bigram keys uniform and apart from word keys)."""
    h = first.view(np.uint64) * _M1 + second.view(np.uint64)
    h ^= h >> _S31
    return h.view(np.int64)


def story_term_keys(story: Story) -> tuple[np.ndarray, np.ndarray]:
    """(sorted term keys, weighted counts) of `story_terms(story)`, computed without term strings."""
    keys = _word_keys((story.title, story.summary or "", story.body[:BODY_CHARS]))
    brk = keys == _BREAK
    ends = np.flatnonzero(brk).tolist()  # three: after the title, the summary, the body
    inner = ~(brk[:-1] | brk[1:])  # no bigram across sections
    words, pairs = keys[~brk], bigram_keys(keys[:-1][inner], keys[1:][inner])
    terms, lo, at = [words, pairs], 0, 0
    for i, (end, weight) in enumerate(zip(ends, (TITLE_WEIGHT, SUMMARY_WEIGHT, 1))):
        size = end - lo  # words of the section; its pairs are pairs[at:at + size - 1]
        if weight > 1 and size:
            terms += [words[lo - i:end - i], pairs[at:at + size - 1]] * (weight - 1)
        lo, at = end + 1, at + max(0, size - 1)
    terms = np.sort(np.concatenate(terms))
    edge = np.empty(len(terms) + 1, dtype=bool)
    edge[0] = edge[-1] = True
    np.not_equal(terms[1:], terms[:-1], out=edge[1:-1])
    starts = np.flatnonzero(edge)
    return terms[starts[:-1]], starts[1:] - starts[:-1]
