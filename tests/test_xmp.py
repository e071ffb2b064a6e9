"""Sidecar format: codec, structs as data, parsing (hardened), writing, version detection."""

import json
import struct as pystruct

import pytest

from xmp import SidecarError, blend, codec, masks
from xmp.merge import detect_version
from xmp.modules import PARAMS
from xmp.sidecar import HistoryItem, Sidecar

from conftest import EXAMPLES

REFERENCE = EXAMPLES.parent
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.xmp"))


def test_struct_sizes_match_darktable():
    sizes = json.loads((REFERENCE / "param_sizes.json").read_text())
    versions = dict(line.split() for line in (REFERENCE / "modversions-4.2.1.txt").read_text().splitlines())
    for name, s in PARAMS.items():
        if name in sizes:
            assert s.size == sizes[name], name
        assert s.version == int(versions[name]), name
    assert blend.PARAMS.size == 420
    assert {
        t: masks.point_struct(t).size
        for t in (masks.GROUP, masks.GRADIENT, masks.ELLIPSE, masks.CIRCLE, masks.PATH, masks.BRUSH)
    } == {masks.GROUP: 16, masks.GRADIENT: 28, masks.ELLIPSE: 28, masks.CIRCLE: 16, masks.PATH: 36, masks.BRUSH: 44}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_defaults_round_trip(name):
    s = PARAMS[name]
    blob = s.encode(s.defaults())
    assert len(blob) == s.size
    assert s.encode(s.decode(blob)) == blob


def test_codec_forms():
    small, large = bytes(range(24)), bytes(420)
    assert codec.encode(small) == small.hex() and not codec.is_compressed(codec.encode(small))
    assert codec.encode(large).startswith("gz") and codec.decode(codec.encode(large)) == large
    assert codec.decode("gz14eJxjYIAACQYYOOHEgAZY0QVwggZ7CB6pfNoAAE8gGQg=") == blend.PARAMS.encode(
        blend.default_params(blend.CS_NONE)
    )
    for bad in ("ABCD", "abc", "zz", "gz00eJw=", "gzxxeJw=", "gz12!!!!"):
        with pytest.raises(SidecarError):
            codec.decode(bad)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_examples_decode_and_reencode(path):
    sidecar = Sidecar.read(path)
    for item in sidecar.history:
        for field in ("params", "blendop_params"):
            text = item.get(field)
            if text is not None:
                assert codec.encode(codec.decode(text)) == text
        item.decoded()
        if item.blendop_params:
            blend.PARAMS.decode(item.blendop_params)
    for form in sidecar.masks:
        form.points()
        assert codec.encode(codec.decode(form.get("mask_points"))) == form.get("mask_points")
    again = Sidecar.parse(sidecar.to_string())
    assert [h.attrs for h in again.history] == [h.attrs for h in sidecar.history]
    assert [m.attrs for m in again.masks] == [m.attrs for m in sidecar.masks]


def test_examples_in_darktables_layout_are_rewritten_byte_for_byte():
    identical = [p.name for p in EXAMPLE_FILES if Sidecar.read(p).to_string() == p.read_text()]
    # exposure_no_blendop.xmp was written by hand ("\n      />"): the writer normalises it to exiv2's layout
    assert sorted(set(p.name for p in EXAMPLE_FILES) - set(identical)) == ["exposure_no_blendop.xmp"]


def test_example_values():
    s = Sidecar.read(EXAMPLES / "exposure_gradient_mask.xmp")
    assert s.history[0].decoded()["exposure"] == 2.0
    grad, group = s.masks
    assert grad.points()[0]["compression"] == pytest.approx(0.1)
    assert group.points()[0] == {"formid": 1001, "parentid": 1002, "state": 3, "opacity": 1.0}
    assert blend.PARAMS.decode(s.history[0].blendop_params)["mask_id"] == 1002
    two = Sidecar.read(EXAMPLES / "two_exposure_instances_iop_order_list.xmp")
    assert ("exposure", 1) in two.iop_order_list and two.history[1].multi_name == "second"


BAD_DOCS = {
    "malformed": b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF",
    "xxe": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>',
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol3;</x:xmpmeta>',
    "not xmp": b"<html><body>hello</body></html>",
    "not darktable": b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description rdf:about=""/></rdf:RDF></x:xmpmeta>',
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(BAD_DOCS))
def test_bad_documents_are_refused(name):
    with pytest.raises(SidecarError) as err:
        Sidecar.parse(BAD_DOCS[name])
    assert "\n" not in str(err.value)


def test_size_limit(tmp_path):
    big = tmp_path / "big.xmp"
    big.write_bytes(b" " * (16 * 1024 * 1024 + 1))
    with pytest.raises(SidecarError, match="limit"):
        Sidecar.read(big)


def test_newer_xmp_version_and_missing_fields_are_refused():
    text = (EXAMPLES / "exposure_plus1ev_v30jpg.xmp").read_text()
    with pytest.raises(SidecarError, match="newer"):
        Sidecar.parse(text.replace('xmp_version="5"', 'xmp_version="6"'))
    with pytest.raises(SidecarError, match="modversion"):
        Sidecar.parse(text.replace('darktable:modversion="6"', ""))


def test_wrong_params_size_and_version():
    s = Sidecar.read(EXAMPLES / "exposure_plus1ev_v30jpg.xmp")
    item = s.history[0]
    item.set("params", "00" * 20)
    with pytest.raises(SidecarError, match="24 bytes"):
        item.decoded()
    item.set("modversion", 9)
    with pytest.raises(SidecarError, match="version 9"):
        item.decoded()


def test_version_detection():
    assert detect_version(Sidecar.read(EXAMPLES / "exposure_gradient_mask.xmp")) == "darktable 4.2 or older"
    text = (EXAMPLES / "exposure_gradient_mask.xmp").read_text()
    newer = Sidecar.parse(text.replace('darktable:blendop_version="11"', 'darktable:blendop_version="13"'))
    assert detect_version(newer) == "darktable ≥ 4.4"
    v5 = Sidecar.parse(text.replace('iop_order_version="3"', 'iop_order_version="5"'))
    assert detect_version(v5).startswith("darktable ≥ 5.0")


def test_unknown_metadata_survives(tmp_path):
    text = (
        (EXAMPLES / "exposure_plus1ev_v30jpg.xmp")
        .read_text()
        .replace(
            '    xmlns:darktable="http://darktable.sf.net/"\n',
            '    xmlns:darktable="http://darktable.sf.net/"\n    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n',
        )
        .replace('   xmpMM:DerivedFrom="in.png"\n', '   xmp:Rating="4"\n   xmpMM:DerivedFrom="in.png"\n')
        .replace(
            "   <darktable:masks_history>",
            "   <dc:subject>\n    <rdf:Bag>\n     <rdf:li>holiday &amp; sea</rdf:li>\n"
            "    </rdf:Bag>\n   </dc:subject>\n"
            "   <darktable:masks_history>",
        )
    )
    s = Sidecar.parse(text)
    assert s.to_string() == text
    s.history.append(HistoryItem.new("exposure", 6, PARAMS["exposure"].encode({"exposure": 0.5}), num=1))
    s.history_end = 2
    out = s.to_string()
    assert 'xmp:Rating="4"' in out and "holiday &amp; sea" in out


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    s = Sidecar.read(EXAMPLES / "exposure_plus1ev_v30jpg.xmp")
    target = tmp_path / "a.jpg.xmp"
    s.write(target)
    s.write(target)
    assert [p.name for p in tmp_path.iterdir()] == ["a.jpg.xmp"]


def test_writes_follow_links_keep_owner_and_mode_and_prune_backups(tmp_path, monkeypatch):
    import os

    from xmp.files import atomic_write, backup, backups

    real = tmp_path / "store" / "a.jpg.xmp"
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, 0o640)
    if os.geteuid() == 0:
        os.chown(real, 65534, 65534)
    link = tmp_path / "a.jpg.xmp"
    link.symlink_to(real)
    atomic_write(link, b"new")
    assert link.is_symlink() and real.read_text() == "new"  # the link still points at the file, now updated
    st = real.stat()
    assert st.st_mode & 0o777 == 0o640
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (65534, 65534)
    # a temporary file of a killed writer is removed by the next write; a living writer's is left alone
    dead, alive = real.parent / f".{real.name}.retouchiq-999999999.tmp", real.parent / f".{real.name}.retouchiq-1.tmp"
    dead.write_text("half"), alive.write_text("in use")
    atomic_write(real, b"newer")
    assert not dead.exists() and alive.exists()
    # backups: the newest N are kept
    monkeypatch.setenv("RETOUCHIQ_KEEP_BACKUPS", "3")
    made = [backup(real) for _ in range(5)]
    assert backups(real) == made[-3:] and all(not m.exists() for m in made[:2])


def test_struct_validation_messages():
    s = PARAMS["exposure"]
    with pytest.raises(SidecarError, match="out of range"):
        s.validate({"exposure": 30.0})
    with pytest.raises(SidecarError, match="no field"):
        s.validate({"exposur": 1.0})
    with pytest.raises(SidecarError, match="must be 24 bytes"):
        s.decode(bytes(23))
    assert pystruct.calcsize(s.format) == 24
