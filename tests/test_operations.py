"""The vocabulary: validation of agent operations, JSON Schema."""

import jsonschema
import pytest

from darktable_bridge import operations, schema
from darktable_bridge.modules import VOCABULARY
from xmp import SidecarError, blend

OK = [
    {"module": "exposure", "params": {"exposure": 0.7}},
    {"module": "channelmixerrgb", "params": {"temperature": 5600, "tint": -0.2}},
    {"module": "colorbalancergb", "params": {"vibrance": 0.15, "contrast": 0.1}},
    {"module": "rgbcurve", "params": {"curve_nodes": [[[0, 0], [0.5, 0.6], [1, 1]]]}},
    {
        "module": "exposure",
        "instance": "sky",
        "params": {"exposure": -0.6},
        "mask": {"type": "gradient", "anchor": [0.5, 0.35], "rotation": 0, "compression": 0.3},
    },
    {
        "module": "exposure",
        "params": {"exposure": -0.3},
        "opacity": 60,
        "blend_mode": "multiply",
        "mask": {
            "parts": [
                {"type": "ellipse", "center": [0.5, 0.5]},
                {"type": "parametric", "channel": "lightness", "range": [50, 60, 100, 100]},
            ],
            "invert": True,
            "feathering_radius": 5,
        },
    },
]


def test_valid_operations_and_schema_agree():
    doc = {"reasoning": "because", "operations": OK}
    jsonschema.Draft202012Validator.check_schema(schema.operations_schema())
    jsonschema.validate(doc, schema.operations_schema())
    result = operations.parse_operations(doc)
    assert len(result) == len(OK)
    masked = result[-1]
    assert masked.blend["mask_mode"] == blend.MASK_ENABLED | blend.MASK_DRAWN | blend.MASK_PARAMETRIC
    assert masked.blend["blend_cst"] == blend.CS_LAB and masked.blend["opacity"] == 60
    assert masked.blend["blendif_parameters"][0] == pytest.approx([0.5, 0.6, 1.0, 1.0])
    assert result[1].params["illuminant"] == 7  # tint: custom illuminant off the daylight locus


BAD = {
    "unknown module": ([{"module": "lowlight", "params": {}}], "unknown module 'lowlight'"),
    "unknown field": ([{"module": "exposure", "params": {"brightness": 1}}], "no field 'brightness'"),
    "out of range": ([{"module": "exposure", "params": {"exposure": 9}}], "out of range"),
    "not a number": ([{"module": "exposure", "params": {"exposure": "1"}}], "expected a number"),
    "nan": ([{"module": "exposure", "params": {"exposure": float("nan")}}], "expected a number"),
    "bad choice": ([{"module": "toneequal", "params": {"details": 7}}], "not one of"),
    "unknown key": ([{"module": "exposure", "params": {}, "strength": 1}], "unknown key"),
    "bad mask": ([{"module": "exposure", "params": {}, "mask": {"type": "star"}}], "expected one of"),
    "mask field": ([{"module": "exposure", "params": {}, "mask": {"type": "circle", "size": 1}}], "unknown field"),
    "curve order": ([{"module": "tonecurve", "params": {"tonecurve": [[0.5, 0], [0.2, 1]]}}], "increasing"),
    "tone mapper mask": ([{"module": "sigmoid", "params": {}, "mask": {"type": "circle"}}], "in place"),
    "instance quotes": ([{"module": "exposure", "instance": 'a"b', "params": {}}], "instance"),
}


# JSON has no NaN, and JSON Schema cannot require increasing x: the parser checks those itself
SCHEMA_CANNOT_SAY = {"nan", "curve order"}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_operations(name):
    ops, message = BAD[name]
    with pytest.raises(SidecarError, match=message):
        operations.parse_operations({"operations": ops})
    if name not in SCHEMA_CANNOT_SAY:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"operations": ops}, schema.operations_schema())


def test_every_module_field_is_a_struct_field_or_declared_derived():
    for module in VOCABULARY.values():
        names = {f.name for f in module.struct.fields}
        for p in module.params:
            assert p.name in names or p.apply is not None, (module.name, p.name)
            if p.name in names and p.kind == "number":
                f = module.struct.field(p.name)
                assert f.min is None or p.min >= f.min and p.max <= f.max, (module.name, p.name)


def test_instance_labels_are_short_single_lines():
    from darktable_bridge.operations import LABEL_CHARS, instance_label

    assert instance_label("  warmer\n\tplease ") == "warmer please"
    assert instance_label('"pop" <&> it') == "pop it"
    long = instance_label("lift the shadows a lot and make the whole photo much warmer")
    assert long == "lift the shadows a lot and make…" and len(long) <= LABEL_CHARS
    assert len(instance_label("x" * 100)) == LABEL_CHARS
    edit = operations.to_edit({"module": "exposure", "params": {"exposure": 0.5}}, 0, instance_label("brighter"))
    assert edit.multi_name == "retouchiq brighter"
    named = {"module": "exposure", "params": {"exposure": 0.5}, "instance": "sky"}
    assert operations.to_edit(named, 0, "brighter").multi_name == "retouchiq sky"
