"""The text of an element tree outside some kinds of elements, in document order."""

from __future__ import annotations


def texts_outside(root, skip: frozenset[str]) -> list[str]:
    """The text pieces of `root`'s subtree (its own text, its descendants' texts and tails, not
    its own tail) that lie in no element whose tag is in `skip`.

    The same strings, in the same order, as the XPath `.//text()[not(ancestor::*[self::x or
    ...])]` from `root` (when `root` and its ancestors are not in `skip`), without the XPath's
    ancestor test on every text node: skipped subtrees are never entered (a tenth of the time).
    Comments and processing instructions add only their tails. Iterative: no recursion limit.
    """
    out: list[str] = []
    if root.text:
        out.append(root.text)
    children = [iter(root)]
    tails: list[str | None] = [None]
    while children:
        child = next(children[-1], None)
        if child is None:
            children.pop()
            tail = tails.pop()
            if tail:
                out.append(tail)
            continue
        tag = child.tag
        if not isinstance(tag, str) or tag in skip:
            if child.tail:
                out.append(child.tail)
            continue
        if child.text:
            out.append(child.text)
        children.append(iter(child))
        tails.append(child.tail)
    return out
