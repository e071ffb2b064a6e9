"""colorbalancergb v5 (src/iop/colorbalancergb.c), "color balance rgb"."""

from ..structs import Field as F
from ..structs import Struct, register


def _zone(zone):
    return (
        F(f"{zone}_Y", min=-1.0, max=1.0, doc=f"{zone} luminance offset/gain"),
        F(f"{zone}_C", min=0.0, max=1.0, doc=f"{zone} chroma of the colour shift"),
        F(f"{zone}_H", min=0.0, max=360.0, unit="°", doc=f"{zone} hue of the colour shift"),
    )


def _signed(name, doc):
    return F(name, min=-1.0, max=1.0, doc=doc)


PARAMS = register(
    Struct(
        "colorbalancergb",
        5,
        (
            *_zone("shadows"),
            *_zone("midtones"),
            *_zone("highlights"),
            *_zone("global"),
            F("shadows_weight", default=1.0, min=0.0, max=3.0, doc="shadows fall-off"),
            F("white_fulcrum", default=0.0, min=-16.0, max=16.0, unit="EV", doc="white fulcrum"),
            F("highlights_weight", default=1.0, min=0.0, max=3.0, doc="highlights fall-off"),
            _signed("chroma_shadows", "chroma in the shadows"),
            _signed("chroma_highlights", "chroma in the highlights"),
            _signed("chroma_global", "global chroma"),
            _signed("chroma_midtones", "chroma in the mid-tones"),
            _signed("saturation_global", "global saturation"),
            _signed("saturation_highlights", "saturation in the highlights"),
            _signed("saturation_midtones", "saturation in the mid-tones"),
            _signed("saturation_shadows", "saturation in the shadows"),
            F("hue_angle", min=-180.0, max=180.0, unit="°", doc="hue shift"),
            _signed("brilliance_global", "global brilliance"),
            _signed("brilliance_highlights", "brilliance in the highlights"),
            _signed("brilliance_midtones", "brilliance in the mid-tones"),
            _signed("brilliance_shadows", "brilliance in the shadows"),
            F("mask_grey_fulcrum", default=0.1845, min=0.0, max=1.0, doc="mask middle-grey fulcrum"),
            _signed("vibrance", "global vibrance"),
            F("grey_fulcrum", default=0.1845, min=0.0, max=1.0, doc="contrast grey fulcrum"),
            _signed("contrast", "contrast around the grey fulcrum"),
            F(
                "saturation_formula",
                "enum",
                1,
                choices={0: "JzAzBz (2021)", 1: "darktable UCS (2022)"},
                doc="saturation formula",
            ),
        ),
        doc="color balance rgb",
    )
)
