"""Masking customer PII in any text that is shown or written.

Masked: mainland mobile and landline numbers, 18-digit ID-card numbers, e-mail addresses,
licence plates (ordinary and new-energy) and order numbers (recognised by the word in front of
them: 订单号 / 单号 / order no. …). Prices, dates, times and counts stay as they are.

>>> mask_pii("手机号是13812345678，邮箱 wang88@example.com")
'手机号是138****5678，邮箱 w***@example.com'
>>> mask_pii("身份证11010519491231002X, tel 010-62345678")
'身份证110105********002X, tel 010-****5678'
>>> mask_pii("价格 1299 元，2026-10-05 下单")  # ordinary numbers stay
'价格 1299 元，2026-10-05 下单'
>>> mask_pii("车牌粤B·D12345，订单号：DD202610051234")
'车牌粤B·***45，订单号：**********1234'
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
# licence plate: province, issuing-office letter, optional dot/space, 5 (ordinary) or 6 (new energy) letters and digits, at least 2 digits
_PLATE = re.compile(r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-HJ-NP-Z])([·•・ -]?)(?=(?:[A-HJ-NP-Z]*\d){2})([A-HJ-NP-Z0-9]{3,4})([A-HJ-NP-Z0-9]{2})(?![A-Za-z0-9])")
# order number: only after a word that says so, 6-32 letters/digits/dashes with at least 5 digits
_ORDER = re.compile(r"((?:订单编号|订单号|订单|单号|工单号|运单号|快递单号|(?<![A-Za-z])order\s*(?:no\.?|number|id|#)?|(?<![A-Za-z])tracking\s*(?:no\.?|number|#)?)\s*(?:是|为)?\s*[:：#]?\s*)"
                    r"(?=(?:[A-Za-z-]*\d){5})([A-Za-z0-9-]{2,28})([A-Za-z0-9]{4})(?![A-Za-z0-9-])", re.I)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")

PATTERNS = {"order": _ORDER, "id_card": _ID, "mobile": _MOBILE, "landline": _LANDLINE, "email": _EMAIL, "plate": _PLATE}


def mask_pii(text: str | None) -> str | None:
    """Mask phone numbers, ID-card numbers, e-mail addresses, licence plates and order numbers in ``text``.

    Keeps enough to recognise the value (first and last digits, the e-mail domain) and
    nothing that identifies the customer. ``None`` stays ``None``.
    """
    if text is None:
        return None
    text = _ORDER.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), str(text))
    text = _ID.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-{'*' * len(m.group(2))}{m.group(3)}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _PLATE.sub(lambda m: f"{m.group(1)}{m.group(2)}***{m.group(4)}", text)
    return text
