"""texts_outside: the same text pieces as the XPath it replaces, without its recursion limits."""

from lxml import etree, html as lxml_html

from digest.ingest.treetext import texts_outside

PAGE = """<html><body>lead <p>one <a href="x">anchor <b>bold</b></a> after-link
<nav>menu <span>item</span></nav> after-nav<!-- note --> after-comment</p>
<noscript>hidden</noscript>tail-of-noscript <div><header>head</header><i>it</i>al</div> end</body></html>"""

SKIP = frozenset({"a", "nav", "header", "noscript"})
XPATH = etree.XPath(".//text()[not(ancestor::*[self::a or self::nav or self::header or self::noscript])]")


def test_same_pieces_as_the_xpath():
    body = lxml_html.document_fromstring(PAGE).find("body")
    got = texts_outside(body, SKIP)
    assert got == [t for t in XPATH(body) if isinstance(t, str)]
    joined = "".join(got)
    assert "anchor" not in joined and "bold" not in joined and "menu" not in joined and "hidden" not in joined and "head" not in joined and "item" not in joined
    assert "after-link" in joined and "after-nav" in joined and "tail-of-noscript" in joined
    assert "after-comment" in joined and " note " not in joined


def test_own_tail_is_not_included_and_nothing_skipped_means_all_text():
    root = lxml_html.fromstring("<div><p>a<b>b</b>c</p>d</div>")
    p = root.find("p")
    assert texts_outside(p, frozenset()) == ["a", "b", "c"]
    assert "".join(texts_outside(root, frozenset())) == root.text_content()


def test_deep_nesting_has_no_recursion_limit():
    depth = 5000
    root = etree.Element("div")
    el = root
    for i in range(depth):
        el = etree.SubElement(el, "span")
        el.text = "x"
    assert len(texts_outside(root, frozenset({"a"}))) == depth
