"""Masking customer PII in any text that is shown or written: phone numbers, ID-card numbers, e-mails.

>>> mask_pii("手机号是13812345678，邮箱 wang88@example.com")
'手机号是138****5678，邮箱 w***@example.com'
>>> mask_pii("身份证11010519491231002X, tel 010-62345678")
'身份证110105********002X, tel 010-****5678'
>>> mask_pii("价格 1299 元，2026-10-05 下单")  # ordinary numbers stay
'价格 1299 元，2026-10-05 下单'
"""

from __future__ import annotations

import re

__all__ = ["mask_pii", "PATTERNS"]

# 18-digit resident ID: 6-digit area, birth date 19xx/20xx, 3 digits, check digit or X
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})((?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# mainland mobile: 11 digits starting 13-19, optionally +86 / 86 and separators
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
# landline: area code 0xx / 0xxx, a separator, 7-8 digits
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ](\d{3,4})(\d{4})(?!\d)")
_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")

PATTERNS = {"id_card": _ID, "mobile": _MOBILE, "landline": _LANDLINE, "email": _EMAIL}


def mask_pii(text: str | None) -> str | None:
    """Mask phone numbers, 18-digit ID-card numbers and e-mail addresses in ``text``.

    Keeps enough to recognise the value (first and last digits, the e-mail domain) and
    nothing that identifies the customer. ``None`` stays ``None``.
    """
    if text is None:
        return None
    text = _ID.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), str(text))
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-{'*' * len(m.group(2))}{m.group(3)}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return text
