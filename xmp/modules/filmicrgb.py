"""filmicrgb v6 (src/iop/filmicrgb.c), "filmic rgb": scene-referred to display tone mapper."""

from ..structs import Field as F
from ..structs import Struct, register

_CURVES = {0: "hard (polynomial 4)", 1: "soft (polynomial 3)", 2: "safe (rational)"}

PARAMS = register(
    Struct(
        "filmicrgb",
        6,
        (
            F("grey_point_source", default=18.45, min=0.0, max=100.0, unit="%", doc="middle grey luminance"),
            F("black_point_source", default=-8.0, min=-16.0, max=-0.1, unit="EV", doc="black relative exposure"),
            F("white_point_source", default=4.0, min=0.1, max=16.0, unit="EV", doc="white relative exposure"),
            F(
                "reconstruct_threshold",
                default=0.0,
                min=-6.0,
                max=6.0,
                unit="EV",
                doc="highlight reconstruction threshold",
            ),
            F("reconstruct_feather", default=3.0, min=0.25, max=6.0, unit="EV", doc="reconstruction transition"),
            F(
                "reconstruct_bloom_vs_details",
                default=100.0,
                min=-100.0,
                max=100.0,
                unit="%",
                doc="bloom vs reconstruct",
            ),
            F(
                "reconstruct_grey_vs_color",
                default=100.0,
                min=-100.0,
                max=100.0,
                unit="%",
                doc="grey vs colourful details",
            ),
            F(
                "reconstruct_structure_vs_texture",
                default=0.0,
                min=-100.0,
                max=100.0,
                unit="%",
                doc="structure vs texture",
            ),
            F("security_factor", default=0.0, min=-50.0, max=200.0, unit="%", doc="dynamic range scaling"),
            F("grey_point_target", default=18.45, min=1.0, max=50.0, unit="%", doc="target middle grey"),
            F("black_point_target", default=0.01517634, min=0.0, max=20.0, unit="%", doc="target black luminance"),
            F("white_point_target", default=100.0, min=0.0, max=1600.0, unit="%", doc="target white luminance"),
            F("output_power", default=4.0, min=1.0, max=10.0, doc="hardness"),
            F("latitude", default=0.01, min=0.01, max=99.0, unit="%", doc="latitude"),
            F("contrast", default=1.0, min=0.0, max=5.0, doc="contrast"),
            F("saturation", default=0.0, min=-200.0, max=200.0, unit="%", doc="extreme luminance saturation"),
            F("balance", default=0.0, min=-50.0, max=50.0, unit="%", doc="shadows vs highlights balance"),
            F("noise_level", default=0.2, min=0.0, max=6.0, doc="noise added in reconstructed highlights"),
            F(
                "preserve_color",
                "enum",
                3,
                choices={
                    0: "none",
                    1: "max RGB",
                    2: "luminance Y",
                    3: "RGB power norm",
                    4: "RGB euclidean norm",
                    5: "RGB euclidean norm (legacy)",
                },
                doc="preserve chrominance",
            ),
            F(
                "version",
                "enum",
                3,
                choices={0: "v3 (2019)", 1: "v4 (2020)", 2: "v5 (2021)", 3: "v6 (2022)"},
                doc="color science",
            ),
            F("auto_hardness", "gboolean", 1, doc="auto adjust hardness"),
            F("custom_grey", "gboolean", 0, doc="use custom middle-grey values"),
            F("high_quality_reconstruction", "int", 1, min=0, max=10, doc="iterations of high-quality reconstruction"),
            F(
                "noise_distribution",
                "enum",
                1,
                choices={0: "uniform", 1: "gaussian", 2: "poissonian"},
                doc="type of noise",
            ),
            F("shadows", "enum", 0, choices=_CURVES, doc="contrast in shadows"),
            F("highlights", "enum", 0, choices=_CURVES, doc="contrast in highlights"),
            F("compensate_icc_black", "gboolean", 0, doc="compensate output ICC profile black point"),
            F(
                "spline_version",
                "enum",
                2,
                choices={0: "v1 (2019)", 1: "v2 (2020)", 2: "v3 (2021)"},
                doc="spline handling",
            ),
            F("enable_highlight_reconstruction", "gboolean", 0, doc="enable highlight reconstruction"),
        ),
        doc="filmic rgb",
    )
)
