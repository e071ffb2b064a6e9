"""Write an XMP tree in the layout exiv2 gives darktable's sidecars.

Layout: ``x:xmpmeta`` and ``rdf:RDF`` keep their attributes on the tag line; other elements put each
attribute on its own line one space deeper than the tag (namespace declarations two spaces deeper, after
``rdf:about``); elements with text keep attributes inline; empty elements close with ``/>``.
"""

from __future__ import annotations

from lxml import etree

INLINE_TAGS = {"{adobe:ns:meta/}xmpmeta", "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"}
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"


def _qname(nsmap: dict, name: str) -> str:
    if name.startswith("{"):
        uri, local = name[1:].split("}", 1)
        if uri == "http://www.w3.org/XML/1998/namespace":
            return f"xml:{local}"
        for prefix, ns in nsmap.items():
            if ns == uri and prefix:
                return f"{prefix}:{local}"
        raise ValueError(f"no prefix for namespace {uri}")
    return name


def _escape(text: str, attr: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attr else text


def _write(el, depth: int, out: list[str], inherited: dict | None = None, names: dict | None = None) -> None:
    """``inherited``: the parent's namespace map; ``names``: qualified names already worked out under it (a
    history of 60 000 items repeats the same few attribute names)."""
    pad = " " * depth
    nsmap = el.nsmap
    new = [(p, u) for p, u in nsmap.items() if (inherited or {}).get(p) != u]
    if new or names is None:
        names = {}

    def qname(name: str) -> str:
        if name not in names:
            names[name] = _qname(nsmap, name)
        return names[name]

    tag = qname(el.tag)
    children = [c for c in el if isinstance(c.tag, str)]
    text = (el.text or "").strip() if not children else ""
    attrs = [(qname(k), v) for k, v in el.attrib.items()]
    ns = [(f"xmlns:{p}" if p else "xmlns", u) for p, u in new]
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
        _write(child, depth + 1, out, nsmap, names)
    out.append(f"{pad}</{tag}>\n")


def to_string(root: etree._Element) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _write(root, 0, out)
    return "".join(out)
