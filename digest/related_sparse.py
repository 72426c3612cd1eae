"""Sparse matrix products for the related index: CSR arrays in, CSR arrays out, computed by
scipy's compiled kernels.

`import scipy.sparse` takes about 0.2 s on a 2-core machine: its array-API layer walks numpy's
whole namespace at import time, which imports numpy.f2py and numpy.testing. That is more than
the products of a one-story update cost, and it was most of the time `digest build` spent after
one story's opening paragraph was edited. So the kernels behind `csr_matrix @ csr_matrix` (the
C++ extension `scipy.sparse._sparsetools`) are loaded from their file without the package's
Python layer. Where that cannot be done (a scipy laid out differently, or whose kernels take
other arguments), the same products go through `scipy.sparse`'s public API; both ways give the
same arrays (tests/unit/test_related_sparse.py).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import numpy as np

_INT32_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True)
class Csr:
    """A compressed sparse row matrix as plain arrays: row i holds the columns
    `indices[indptr[i]:indptr[i + 1]]` with the values at the same positions of `data`."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]


def take_rows(x: Csr, rows: np.ndarray) -> Csr:
    """The matrix of rows `rows` of `x`, in that order."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = x.indptr[rows].astype(np.int64)
    lengths = x.indptr[rows + 1].astype(np.int64) - starts
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    at = np.arange(int(indptr[-1])) + np.repeat(starts - indptr[:-1], lengths)
    return Csr(indptr, x.indices[at], x.data[at], (len(rows), x.shape[1]))


def transpose(x: Csr) -> Csr:
    """`x` transposed (each row's columns in increasing order)."""
    kernels = _kernels()
    if kernels is None:
        return _public(lambda m: m.T.tocsr(), x)
    rows, cols = x.shape
    index = _index_dtype(max(int(x.indptr[-1]), rows, cols))
    indptr = np.empty(cols + 1, dtype=index)
    indices = np.empty(len(x.data), dtype=index)
    data = np.empty(len(x.data), dtype=x.data.dtype)
    kernels.csr_tocsc(rows, cols, x.indptr.astype(index, copy=False), x.indices.astype(index, copy=False), x.data,
                      indptr, indices, data)
    return Csr(indptr, indices, data, (cols, rows))


def matmul(a: Csr, b: Csr) -> Csr:
    """The product `a @ b` (a row's columns in no particular order; sums equal to zero left out).
    Values are multiplied and added in the dtype of `a`'s and `b`'s values (integers: exactly)."""
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"shapes {a.shape} and {b.shape} do not chain")
    kernels = _kernels()
    if kernels is None:
        return _public(lambda m, n: m @ n, a, b)
    rows, cols = a.shape[0], b.shape[1]
    index = _index_dtype(max(int(a.indptr[-1]), int(b.indptr[-1]), rows, cols, a.shape[1]))
    a_ptr, a_ind = a.indptr.astype(index, copy=False), a.indices.astype(index, copy=False)
    b_ptr, b_ind = b.indptr.astype(index, copy=False), b.indices.astype(index, copy=False)
    most = int(kernels.csr_matmat_maxnnz(rows, cols, a_ptr, a_ind, b_ptr, b_ind))
    wide = _index_dtype(max(most, rows, cols))
    if wide != index:
        a_ptr, a_ind, b_ptr, b_ind = (v.astype(wide) for v in (a_ptr, a_ind, b_ptr, b_ind))
    value = np.result_type(a.data, b.data)
    indptr = np.empty(rows + 1, dtype=wide)
    indices = np.empty(most, dtype=wide)
    data = np.empty(most, dtype=value)
    kernels.csr_matmat(rows, cols, a_ptr, a_ind, a.data.astype(value, copy=False), b_ptr, b_ind,
                       b.data.astype(value, copy=False), indptr, indices, data)
    nnz = int(indptr[-1])
    return Csr(indptr, indices[:nnz], data[:nnz], (rows, cols))


def _index_dtype(largest: int) -> type:
    return np.int32 if largest <= _INT32_MAX else np.int64


def _public(operation, *matrices: Csr) -> Csr:
    """`operation` on scipy.sparse matrices made from `matrices`, back as arrays."""
    import scipy.sparse as sp

    result = operation(*(sp.csr_matrix((m.data, m.indices, m.indptr), shape=m.shape) for m in matrices)).tocsr()
    return Csr(result.indptr, result.indices, result.data, result.shape)


@lru_cache(maxsize=1)
def _kernels() -> ModuleType | None:
    """scipy's `_sparsetools` extension loaded from its file, or None (use the public API)."""
    spec = importlib.util.find_spec("scipy")  # finds the package without importing it
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in folders:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / "sparse" / f"_sparsetools{suffix}"
            if path.is_file():
                return _load(str(path))
    return None


def _load(path: str) -> ModuleType | None:
    name = "scipy.sparse._sparsetools"
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    module_spec = importlib.util.spec_from_loader(name, loader)
    if module_spec is None:
        return None
    try:
        module = importlib.util.module_from_spec(module_spec)
        loader.exec_module(module)
    except ImportError:
        return None
    if not all(hasattr(module, f) for f in ("csr_matmat_maxnnz", "csr_matmat", "csr_tocsc")) or not _works(module):
        return None
    return module


def _works(module: ModuleType) -> bool:
    """Whether the kernels take the arguments this module passes (checked once, on a 2x2 product)."""
    ptr, ind = np.array([0, 1, 2], dtype=np.int32), np.array([1, 0], dtype=np.int32)
    val = np.array([3, 5], dtype=np.int64)
    try:
        most = int(module.csr_matmat_maxnnz(2, 2, ptr, ind, ptr, ind))
        out = np.empty(3, dtype=np.int32), np.empty(most, dtype=np.int32), np.empty(most, dtype=np.int64)
        module.csr_matmat(2, 2, ptr, ind, val, ptr, ind, val, *out)
    except (TypeError, ValueError):
        return False
    return out[0].tolist() == [0, 1, 2] and out[1][:2].tolist() == [0, 1] and out[2][:2].tolist() == [15, 15]
