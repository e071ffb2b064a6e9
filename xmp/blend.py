"""Blend params (``dt_develop_blend_params_t``, blendop_version 11, src/develop/blend.h) declared as data."""

from __future__ import annotations

from .structs import Field as F
from .structs import Struct, register

VERSION = 11

# mask_mode bits
MASK_ENABLED, MASK_DRAWN, MASK_PARAMETRIC, MASK_RASTER = 1, 2, 4, 8
# blend colour spaces
CS_NONE, CS_RAW, CS_LAB, CS_RGB_DISPLAY, CS_RGB_SCENE = 0, 1, 2, 3, 4
# mask_combine bits
COMBINE_INVERT, COMBINE_INCLUSIVE, COMBINE_DRAWN_INVERTED = 1, 2, 4

BLEND_MODES = {
    "normal": 0x18,
    "normal bounded": 0x19,
    "lighten": 0x02,
    "darken": 0x03,
    "multiply": 0x04,
    "average": 0x05,
    "addition": 0x06,
    "subtract": 0x07,
    "screen": 0x09,
    "overlay": 0x0A,
    "softlight": 0x0B,
    "hardlight": 0x0C,
    "vividlight": 0x0D,
    "linearlight": 0x0E,
    "pinlight": 0x0F,
    "lightness": 0x10,
    "chromaticity": 0x11,
    "hue": 0x12,
    "color": 0x13,
    "coloradjustment": 0x16,
    "difference": 0x17,
    "Lab lightness": 0x1A,
    "Lab color": 0x1B,
    "HSV value": 0x1C,
    "HSV color": 0x1D,
    "Lab L": 0x1E,
    "Lab a": 0x1F,
    "Lab b": 0x20,
    "RGB red": 0x21,
    "RGB green": 0x22,
    "RGB blue": 0x23,
    "subtract inverse": 0x25,
    "divide": 0x26,
    "divide inverse": 0x27,
    "geometric mean": 0x28,
    "harmonic mean": 0x29,
}
BLEND_REVERSE = 0x80000000

# blendif channel indices by blend colour space
LAB_CHANNELS = {"L": 0, "a": 1, "b": 2, "C": 8, "h": 9}
RGB_CHANNELS = {"gray": 0, "R": 1, "G": 2, "B": 3, "Jz": 8, "Cz": 9, "hz": 10}
OUTPUT_OFFSET = 4
BLENDIF_SIZE = 16
# Jz and Cz are boosted by log2(0.001) in the scene-referred RGB space so that white reads about 1.
RGB_SCENE_BOOST = -6.64385619

PARAMS = register(
    Struct(
        "blendop",
        VERSION,
        (
            F("mask_mode", "uint", 0, doc="bits: 1 uniform, 2 drawn, 4 parametric, 8 raster"),
            F(
                "blend_cst",
                "int",
                CS_NONE,
                choices={0: "none", 1: "raw", 2: "Lab", 3: "RGB (display)", 4: "RGB (scene)"},
                doc="blending colour space",
            ),
            F("blend_mode", "uint", 0x18, doc="blend mode (low byte) | 0x80000000 reverse"),
            F("blend_parameter", default=0.0, min=-18.0, max=18.0, unit="EV", doc="blend fulcrum"),
            F("opacity", default=100.0, min=0.0, max=100.0, unit="%", doc="opacity"),
            F("mask_combine", "uint", 0, doc="bits: 1 invert, 2 inclusive, 4 invert drawn mask"),
            F("mask_id", "uint", 0, doc="formid of the module's group of drawn shapes"),
            F("blendif", "uint", 0, doc="bit i: parametric channel i active; bit 16+i: channel i inverted"),
            F("feathering_radius", default=0.0, min=0.0, max=250.0, unit="px", doc="feathering radius"),
            F(
                "feathering_guide",
                "uint",
                5,
                choices={
                    1: "input before blur",
                    2: "output before blur",
                    5: "input after blur",
                    6: "output after blur",
                },
                doc="feathering guide",
            ),
            F("blur_radius", default=0.0, min=0.0, max=100.0, unit="px", doc="mask blur radius"),
            F("contrast", default=0.0, min=-1.0, max=1.0, doc="mask contrast"),
            F("brightness", default=0.0, min=-1.0, max=1.0, doc="mask brightness"),
            F("details", default=0.0, min=-1.0, max=1.0, doc="details threshold"),
            F("reserved", "uint", shape=(3,), default=[0, 0, 0], doc="reserved"),
            F(
                "blendif_parameters",
                shape=(BLENDIF_SIZE, 4),
                default=[[0.0, 0.0, 1.0, 1.0]] * BLENDIF_SIZE,
                doc="per channel trapezoid (x0 off, x1 on, x2 on, x3 off)",
            ),
            F(
                "blendif_boost_factors",
                shape=(BLENDIF_SIZE,),
                default=[0.0] * BLENDIF_SIZE,
                unit="EV",
                doc="per channel range boost",
            ),
            F("raster_mask_source", "char", shape=(20,), default=b"\0" * 20, doc="operation providing the raster mask"),
            F("raster_mask_instance", "int", 0, doc="instance providing the raster mask"),
            F("raster_mask_id", "int", 0, doc="raster mask id"),
            F("raster_mask_invert", "gboolean", 0, doc="invert the raster mask"),
        ),
        doc="blending options",
    )
)


def default_params(cst: int) -> dict:
    """darktable's ``dt_develop_blend_init_blend_parameters`` for a blend colour space."""
    p = PARAMS.defaults()
    p["blend_cst"] = cst
    if cst == CS_RGB_SCENE:
        for ch in (RGB_CHANNELS["Jz"], RGB_CHANNELS["Cz"]):
            p["blendif_boost_factors"][ch] = RGB_SCENE_BOOST
            p["blendif_boost_factors"][ch + OUTPUT_OFFSET] = RGB_SCENE_BOOST
    return p
