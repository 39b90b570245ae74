"""Colour science shared by the measurements: sRGB to CIELAB, colour temperature, colour names."""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# sRGB (D65) primaries to CIE XYZ.
_SRGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
)

# A small table of plain colour names; the nearest one (in CIELAB) names a palette entry.
_COLOUR_NAMES = {
    "black": "#000000",
    "charcoal": "#36454f",
    "slate gray": "#708090",
    "gray": "#808080",
    "silver": "#c0c0c0",
    "white": "#ffffff",
    "cream": "#f3ead8",
    "beige": "#d9c7a7",
    "sand": "#c2b280",
    "tan": "#d2b48c",
    "brown": "#8b5a2b",
    "dark brown": "#4a2c1a",
    "maroon": "#800000",
    "crimson": "#b5162b",
    "red": "#d62828",
    "coral": "#ff7f50",
    "salmon": "#fa8072",
    "peach": "#ffcba4",
    "orange": "#f28c28",
    "burnt orange": "#cc5500",
    "amber": "#ffbf00",
    "gold": "#e6b422",
    "yellow": "#f6d32d",
    "pale yellow": "#fff3b0",
    "olive": "#708238",
    "lime": "#9acd32",
    "green": "#2e8b57",
    "forest green": "#1f4d2b",
    "sage": "#9caf88",
    "mint": "#98d8b0",
    "teal": "#008080",
    "turquoise": "#40e0d0",
    "cyan": "#00bcd4",
    "sky blue": "#87ceeb",
    "powder blue": "#b0d8e6",
    "steel blue": "#4682b4",
    "blue": "#1f5fbf",
    "navy": "#1b2a4a",
    "midnight blue": "#121a3a",
    "indigo": "#3f2a73",
    "purple": "#6a2c91",
    "violet": "#8f5bd6",
    "lavender": "#b8a9e0",
    "magenta": "#d6249f",
    "hot pink": "#ff3d8b",
    "pink": "#f7a8c4",
    "plum": "#5e2750",
    "mauve": "#b784a7",
    "dusty rose": "#c9818f",
    "rust": "#b7410e",
}


def srgb_to_linear(c: FloatArray) -> FloatArray:
    """sRGB values in 0..1 to linear light (undo the gamma curve)."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def srgb_to_lab(rgb: FloatArray) -> FloatArray:
    """sRGB 0..255 (..., 3) to CIELAB (D65): distances there match how different colours look."""
    lin = srgb_to_linear(rgb / 255.0)
    xyz = lin @ _SRGB_TO_XYZ.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def mccamy_kelvin(mean_rgb: FloatArray) -> float:
    """McCamy's correlated colour temperature of one sRGB colour (0..255), clamped to 1000..12000.

    A scene-average CCT is a rough idea of "warm or cool", not a light-meter reading: strongly
    tinted scenes (deep blue water) fall off the formula's range, hence the clamp.
    """
    lin = srgb_to_linear(np.asarray(mean_rgb, dtype=np.float64) / 255.0)
    x_, y_, z_ = _SRGB_TO_XYZ @ lin
    total = x_ + y_ + z_
    # Any 8-bit pixel above black, averaged over a 256x256 thumbnail, still gives > 2e-9 here.
    if total <= 1e-9:
        return 6500.0  # black: no light to judge, say daylight
    x, y = x_ / total, y_ / total
    if abs(0.1858 - y) < 1e-6:
        return 12000.0
    n = (x - 0.3320) / (0.1858 - y)
    cct = 449 * n**3 + 3525 * n**2 + 6823.3 * n + 5520.33
    return float(np.clip(round(cct / 100) * 100, 1000, 12000))


def _hex_rgb(hex_code: str) -> tuple[int, int, int]:
    value = int(hex_code.lstrip("#"), 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


@cache
def _name_table() -> tuple[tuple[str, ...], FloatArray]:
    names = tuple(_COLOUR_NAMES)
    rgb = np.array([_hex_rgb(_COLOUR_NAMES[n]) for n in names], dtype=np.float64)
    return names, srgb_to_lab(rgb)


def nearest_color_name(rgb: tuple[int, int, int]) -> str:
    """The plain name closest to an sRGB colour."""
    names, labs = _name_table()
    lab = srgb_to_lab(np.array(rgb, dtype=np.float64))
    return names[int(np.argmin(np.sum((labs - lab) ** 2, axis=1)))]


def delta_e_2000(lab1: FloatArray, lab2: FloatArray) -> FloatArray:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005) between CIELAB colours, broadcast.

    Plain Euclidean distance in CIELAB overstates differences between saturated colours and
    understates them between blues; CIEDE2000 corrects both, so 2 is "just noticeable" and
    anything above about 10 reads as another colour, wherever in the gamut the pair sits.
    """
    lab1, lab2 = np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    chroma_zero = (c1p * c2p) == 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(chroma_zero, 0.0, dh)
    d_l, d_c = l2 - l1, c2p - c1p
    d_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(
        np.abs(h1p - h2p) <= 180,
        h_sum / 2,
        np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2),
    )
    h_mean = np.where(chroma_zero, h_sum, h_mean)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    rotation = -2 * np.sqrt(cp_mean**7 / (cp_mean**7 + 25.0**7))
    rotation *= np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2))))
    return np.sqrt(
        (d_l / s_l) ** 2
        + (d_c / s_c) ** 2
        + (d_h / s_h) ** 2
        + rotation * (d_c / s_c) * (d_h / s_h)
    )
