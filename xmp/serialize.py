"""Write an XMP tree in the layout exiv2 gives darktable's sidecars.

Layout: ``x:xmpmeta`` and ``rdf:RDF`` keep their attributes on the tag line; other elements put each
attribute on its own line one space deeper than the tag (namespace declarations two spaces deeper, after
``rdf:about``); elements with text keep attributes inline; empty elements close with ``/>``.
"""

from __future__ import annotations

from lxml import etree

INLINE_TAGS = {"{adobe:ns:meta/}xmpmeta", "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"}
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"


def _qname(el, name: str) -> str:
    if name.startswith("{"):
        uri, local = name[1:].split("}", 1)
        if uri == "http://www.w3.org/XML/1998/namespace":
            return f"xml:{local}"
        for prefix, ns in el.nsmap.items():
            if ns == uri and prefix:
                return f"{prefix}:{local}"
        raise ValueError(f"no prefix for namespace {uri}")
    return name


def _escape(text: str, attr: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attr else text


def _new_namespaces(el) -> list[tuple[str, str]]:
    parent = el.getparent()
    inherited = parent.nsmap if parent is not None else {}
    return [(p, u) for p, u in el.nsmap.items() if inherited.get(p) != u]


def _write(el, depth: int, out: list[str]) -> None:
    pad = " " * depth
    tag = _qname(el, el.tag)
    children = [c for c in el if isinstance(c.tag, str)]
    text = (el.text or "").strip() if not children else ""
    attrs = [(_qname(el, k), v) for k, v in el.attrib.items()]
    ns = [(f"xmlns:{p}" if p else "xmlns", u) for p, u in _new_namespaces(el)]
    if el.tag in INLINE_TAGS or text:
        head = "".join(f' {k}="{_escape(v, True)}"' for k, v in ns + attrs)
        if text:
            out.append(f"{pad}<{tag}{head}>{_escape(text, False)}</{tag}>\n")
            return
        out.append(f"{pad}<{tag}{head}>\n")
    else:
        lines = [f"{pad}<{tag}"]
        first = [a for a in attrs if a[0] == "rdf:about"]
        if first:
            lines[0] += f' rdf:about="{_escape(first[0][1], True)}"'
            attrs = [a for a in attrs if a[0] != "rdf:about"]
        lines += [f'\n{pad}  {k}="{_escape(v, True)}"' for k, v in ns]
        lines += [f'\n{pad} {k}="{_escape(v, True)}"' for k, v in attrs]
        if not children:
            out.append("".join(lines) + "/>\n")
            return
        out.append("".join(lines) + ">\n")
    for child in children:
        _write(child, depth + 1, out)
    out.append(f"{pad}</{tag}>\n")


def to_string(root: etree._Element) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _write(root, 0, out)
    return "".join(out)
