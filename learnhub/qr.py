"""QR codes as inline SVG: no image files, nothing fetched from another host."""
from __future__ import annotations

import segno


def qr_svg(data: str, scalable: bool = False) -> str:
    """Inline SVG with the standard four-module quiet zone. ``scalable`` leaves out the
    size (a viewBox instead), so CSS can blow it up for a projector."""
    return segno.make(data, error="m").svg_inline(scale=3, border=4, dark="#000", light="#fff",
                                                  omitsize=scalable)
