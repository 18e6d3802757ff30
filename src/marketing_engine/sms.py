"""SMS encoding rules: GSM-7 or UCS-2, length in septets, number of parts."""

from __future__ import annotations

import math

# GSM 03.38 basic character set, and the extension table (each costs two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")

SINGLE_LIMIT = {"GSM-7": 160, "UCS-2": 70}
PART_LIMIT = {"GSM-7": 153, "UCS-2": 67}


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def encoding(text: str) -> str:
    """GSM-7 when every character is in the GSM 03.38 set, else UCS-2."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def length(text: str) -> int:
    """Length as the network counts it: septets for GSM-7, UTF-16 code units for UCS-2."""
    if is_gsm7(text):
        return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def parts(text: str) -> int:
    """Number of SMS parts needed to send `text`."""
    kind = encoding(text)
    size = length(text)
    if size <= SINGLE_LIMIT[kind]:
        return 1
    return math.ceil(size / PART_LIMIT[kind])
