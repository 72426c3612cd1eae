"""Sparse products on scipy's kernels loaded directly: the same arrays as scipy.sparse's public
API, a fallback when the kernels cannot be loaded, and no `scipy.sparse` import on the way."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import related_sparse
from digest.related_sparse import Csr, matmul, take_rows, transpose


def random_csr(rng: np.random.Generator, rows: int, cols: int, density: float) -> Csr:
    dense = rng.integers(-2**20, 2**20, size=(rows, cols)) * (rng.random((rows, cols)) < density)
    m = sp.csr_matrix(dense.astype(np.int64))
    return Csr(m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data, m.shape)


def as_scipy(x: Csr) -> sp.csr_matrix:
    return sp.csr_matrix((x.data, x.indices, x.indptr), shape=x.shape)


def canonical(x: Csr) -> tuple:
    """Entries by (row, column): a product's row order of columns is not part of the contract."""
    m = as_scipy(x)
    m.sort_indices()
    return m.shape, m.indptr.tolist(), m.indices.tolist(), m.data.tolist()


def test_the_kernels_load_without_importing_scipy_sparse():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        from digest.related_sparse import Csr, _kernels, matmul, transpose
        assert _kernels() is not None, "scipy's kernels did not load"
        x = Csr(np.array([0, 1, 2]), np.array([1, 0], dtype=np.int32), np.array([3, 5]), (2, 2))
        product = matmul(x, transpose(x))
        assert product.data.tolist() == [9, 25], product
        assert "scipy.sparse" not in sys.modules, "scipy.sparse was imported"
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 12), inner=st.integers(1, 15), cols=st.integers(0, 12),
       density=st.floats(0.0, 1.0))
def test_products_equal_scipy_sparse(seed, rows, inner, cols, density):
    rng = np.random.default_rng(seed)
    a, b = random_csr(rng, rows, inner, density), random_csr(rng, inner, cols, density)
    expected = as_scipy(a) @ as_scipy(b)
    got = matmul(a, b)
    assert canonical(got) == canonical(Csr(expected.indptr, expected.indices, expected.data, expected.shape))
    assert 0 not in got.data.tolist()  # sums of zero are left out, as scipy does
    t = transpose(a)
    assert canonical(t) == canonical(Csr(*(lambda m: (m.indptr, m.indices, m.data, m.shape))(as_scipy(a).T.tocsr())))
    for row in range(t.shape[0]):  # a transpose's rows are sorted
        part = t.indices[t.indptr[row]:t.indptr[row + 1]].tolist()
        assert part == sorted(part)


def test_take_rows_in_the_order_asked():
    rng = np.random.default_rng(7)
    x = random_csr(rng, 9, 6, 0.5)
    rows = np.array([8, 0, 3, 3])
    assert (as_scipy(take_rows(x, rows)).toarray() == as_scipy(x).toarray()[rows]).all()
    assert take_rows(x, np.array([], dtype=np.int64)).shape == (0, 6)


def test_the_public_api_gives_the_same_arrays_when_the_kernels_cannot_load(monkeypatch):
    rng = np.random.default_rng(3)
    a, b = random_csr(rng, 30, 40, 0.2), random_csr(rng, 40, 25, 0.2)
    direct = matmul(a, b), transpose(a)
    monkeypatch.setattr(related_sparse, "_kernels", lambda: None)
    public = matmul(a, b), transpose(a)
    assert [canonical(x) for x in direct] == [canonical(x) for x in public]


def test_a_file_that_is_not_the_kernels_is_refused(tmp_path):
    fake = tmp_path / "_sparsetools.so"
    fake.write_bytes(b"not a shared object")
    assert related_sparse._load(str(fake)) is None


def test_shapes_that_do_not_chain_are_refused():
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match="do not chain"):
        matmul(random_csr(rng, 2, 3, 1.0), random_csr(rng, 4, 2, 1.0))
