"""Masking customer PII in any text that is shown or written.

Masked: mainland mobile numbers (also ``+86``, split by spaces, dots or dashes), landlines (area code with or
without a separator, in ASCII or full-width parentheses), 15- and 18-digit ID-card numbers, bank-card numbers
(16–19 digits passing the Luhn check), e-mail addresses (also with a full-width ``＠``), licence plates
(ordinary and new-energy), and — recognised by the word in front of them — QQ numbers (QQ / 扣扣),
account and card numbers (账号 / 卡号 / 账户 …), local landline numbers (电话 / 座机 / 固话) and order and
tracking numbers (订单号 / 单号 / 运单号 / order no. …). Full-width digits, letters and punctuation are
matched like their ASCII forms (the text is normalised for matching only; the masked text keeps the rest
of the original characters). Dates, times, durations, prices, amounts, percentages, counts and version
numbers stay as they are.

>>> mask_pii("手机号是13812345678，邮箱 wang88@example.com")
'手机号是138****5678，邮箱 w***@example.com'
>>> mask_pii("身份证11010519491231002X, tel 010-62345678")
'身份证110105********002X, tel 010-****5678'
>>> mask_pii("价格 1299 元，2026-10-05 下单")  # ordinary numbers stay
'价格 1299 元，2026-10-05 下单'
>>> mask_pii("车牌粤B·D12345，订单号：DD202610051234")
'车牌粤B·***45，订单号：**********1234'
>>> mask_pii("电话１３８．１２３４．５６７８，座机（０７５５）８３２１６５４３")  # full-width, dots, parentheses
'电话138****5678，座机0755-****6543'
>>> mask_pii("退款到6222021234567890128，QQ：246813579，邮箱 lmz-2046＠qq.com")
'退款到6222***********0128，QQ：*****3579，邮箱 l***@qq.com'
>>> mask_pii("2026年10月5日 14:30:05 通话 00:02:23，¥3,499.00，满意度 98.5%")
'2026年10月5日 14:30:05 通话 00:02:23，¥3,499.00，满意度 98.5%'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["mask_pii", "mask_frame", "find_pii", "PATTERNS"]

# ----------------------------------------------------------------------------------------------- normalising
#: Full-width ASCII (U+FF01–FF5E), the ideographic space, the no-break space and the small/full-width at sign,
#: mapped one character to one character (what NFKC does for these ranges), so offsets stay valid.
_FOLD = str.maketrans({**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "\u3000": " ", "\u00a0": " ", "\ufe6b": "@"})
#: Nothing to mask without a digit or an at sign (ASCII or full-width): most texts stop here.
_QUICK = re.compile(r"[0-9０-９@＠﹫]")

# ----------------------------------------------------------------------------------------------- patterns
# All patterns run on the normalised text (ASCII digits, letters, parentheses and @).
#: Separator inside a digit group: up to two spaces, or one dash / dot / middle dot (一 too) with a space either side.
_S = r"(?:[ \t]{1,2}|[ \t]?[-.·・\u2010-\u2015一][ \t]?)?"
#: First two digits of a resident ID: the province codes.
_PROV = r"(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3])"
_MMDD = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"

# mainland mobile: 1[3-9] and 9 more digits, split anywhere by separators into groups of 3 or more digits (3-4-4, 4-4-3,
# 3-8 …; checked in find_pii), optionally +86 / 0086 / 86 in front; not the decimals of a number (0.13812345678)
_MOBILE = re.compile(rf"(?<![0-9])(?<![0-9][.])(?:(?:\+|00)?86{_S})?(1[3-9](?:{_S}[0-9]){{9}})(?![0-9])")
# landline: area code 010 / 02x (8-digit number) or 0xxx (7–8 digits), in parentheses, or followed by a separator
# (then the number may hold one more), or glued to the number (then the number holds no separator)
_LOCAL_NUMBER = rf"[0-9]{{3,4}}{_S}[0-9]{{4}}"
_LANDLINE = re.compile(rf"(?<![0-9])(?<![0-9][.])(?:\(\s*0[1-9][0-9]{{1,2}}\s*\)[ \t]?{_LOCAL_NUMBER}|"
                       rf"0[1-9][0-9]{{1,2}}(?:[ \t]{{1,2}}|[ \t]?[-.·・\u2010-\u2015一][ \t]?){_LOCAL_NUMBER}|0[1-9][0-9]{{9,10}})(?![0-9])")
# resident ID, 18 digits (province + 4 digits, birth date 18xx/19xx/20xx, 3 digits, check digit or X) or 15 (issued
# before 1999: province + 4 digits, YYMMDD, 3 digits); split anywhere into groups of 3 or more digits (6-8-4, 6-4-4-4 …);
# the digits must hold a plausible birth date (checked in find_pii with _ID_DIGITS)
_ID = re.compile(rf"(?<![0-9A-Za-z])[1-8][0-9](?:{_S}[0-9]){{15}}{_S}[0-9Xx](?![0-9A-Za-z])")
_ID15 = re.compile(rf"(?<![0-9A-Za-z])[1-8][0-9](?:{_S}[0-9]){{13}}(?![0-9A-Za-z])")
_ID_DIGITS = re.compile(rf"{_PROV}[0-9]{{4}}(?:(?:18|19|20)[0-9]{{2}}{_MMDD}[0-9]{{3}}[0-9Xx]|[0-9]{{2}}{_MMDD}[0-9]{{3}})")
# bank card: 16–19 digits, bare or in groups (space or dash) of 3 or more digits (the last may be shorter); kept only when
# the groups are so and the number passes the Luhn check
_CARD = re.compile(r"(?<![0-9A-Za-z])[3-69](?:(?:[ \t]{1,2}|-)?[0-9]){15,18}(?![0-9A-Za-z])")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9])[A-Za-z0-9._%+-]* ?@ ?([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")
# licence plate: province, issuing-office letter, optional dot/space, 5 (ordinary) or 6 (new energy) letters and digits, at least 2 digits
_PLATE = re.compile(r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-HJ-NP-Z])([·•・ -]?)(?=(?:[A-HJ-NP-Z]*\d){2})([A-HJ-NP-Z0-9]{3,4})([A-HJ-NP-Z0-9]{2})(?![A-Za-z0-9])")

# --- numbers recognised by the word in front of them (the word stays, the number is masked) ---
#: An identifier after a keyword: letters, digits and dashes with at least 3 digits near its start (so a word like
#: "EMS" in "运单号EMS快递：1234567890123" is not taken for the number), digit groups may be split by one space (before a group of 2 or more digits).
_IDENT = r"(?=(?:[A-Za-z-]*[0-9]){3})[A-Za-z0-9](?:[A-Za-z0-9-]|[ \t](?=[0-9]{2}))*[A-Za-z0-9]"
#: Between a Chinese keyword and its number: a few words ("号是：", "告诉你:", "EMS国内经济快递："), no digit or sentence break.
_GAP = r"[^0-9\n\r,，。.;；!！?？、]{0,10}?"
#: After a QQ or phone word: "号码是：", "号为", " : ".
_WORD_TAIL = r"[ \t]*(?:号码|号)?[ \t]*(?:是|为)?[ \t]*[:：]?[ \t]*"
#: After an English word: " no. ", " number: ", "#".
_EN_TAIL = r"[ \t]*(?:no\.?|number|id|#)?[ \t]*[:：#]?[ \t]*"
# (Every pattern below starts with a literal, no look-behind, so the regex engine can skip to its first character;
# the checks on the character before an English word are in find_pii.)
_ORDER = re.compile(rf"(?:订单|定单|单号|合同号|物流号)({_GAP})({_IDENT})")
_ORDER_EN = re.compile(rf"(?:order|tracking)({_EN_TAIL})({_IDENT})", re.I)
_ACCOUNT = re.compile(rf"(?:卡号|银行卡|储蓄卡|信用卡|借记卡|账号|帐号|账户|帐户|户号|业务号|分账序号|会员号)({_GAP})({_IDENT})")
_ACCOUNT_EN = re.compile(rf"(?:account|acct|card)({_EN_TAIL})({_IDENT})", re.I)
_QQ = re.compile(rf"(?:[Qq]{{2}}|加[Qq]|扣扣|企鹅号){_WORD_TAIL}([1-9][0-9]{{2,11}}(?:{_S}[0-9]{{3,9}}){{0,3}})(?![0-9])")  # 5–12 digits
_LOCAL = re.compile(rf"(?:固话|座机|固定电话|电话|[Tt][Ee][Ll]|[Pp]hone|PHONE){_WORD_TAIL}([2-9][0-9]{{2,3}}{_S}[0-9]{{4}})(?![0-9])")
_USER = re.compile(r"用户([0-9]{8,19})(?![0-9])")  # "91用户123456789012345": a user name made of the site's word and a number
# the keyword after the number: "123456789我的91帐号", "123456789是我的QQ"
_ACCOUNT_AFTER = re.compile(r"([0-9]{6,19})(?=(?:是|为)?(?:我的|我们的|的)[A-Za-z0-9]{0,4}(?:帐号|账号|账户|帐户|QQ|qq))")
#: A list after the first number: "订单号123456789、987654321", "EMS运单号有两个1234567890123 // 1234567890456".
_NEXT = re.compile(rf"[ \t]*(?://|[,，、;；/\\]|和|及|与)[ \t]*({_IDENT})")
#: Words that make the number after an order or account word an amount, a date or a count, not an identifier.
_GAP_STOP = re.compile(r"金额|价|钱|费|元|余额|额度|积分|充值|时间|日期|[年月日天]|共|合计|总|第|数|量")
_UNIT_AFTER = re.compile(r"[ \t]*(?:元|块|圆|万|千|百|%|％|分钟|小时|秒|天|个|件|次|人|台|额度|积分|兆|M|G|K|kb|KB|MB|GB)", re.I)
_DATE_LIKE = re.compile(r"(?:19|20)[0-9]{2}[-./]?(?:0?[1-9]|1[0-2])[-./]?(?:0?[1-9]|[12][0-9]|3[01])")

#: The words of each keyword family (looked for in the lower-cased text), to skip the patterns whose word is absent.
_ORDER_WORDS, _ORDER_EN_WORDS = ("订单", "定单", "单号", "合同号", "物流号"), ("order", "tracking")
_ACCOUNT_WORDS, _ACCOUNT_EN_WORDS = ("卡", "账", "帐", "户号", "业务号", "会员号"), ("account", "acct", "card")
_QQ_WORDS, _LOCAL_WORDS = ("qq", "扣扣", "企鹅", "加q"), ("固话", "座机", "电话", "tel", "phone")
#: 11 digits or more, with at most 3 separator characters between two of them: needed by every bare number pattern.
_RUN = re.compile(r"[0-9](?:[ \t.\-·・()\u2010-\u2015一]{0,3}[0-9]){10,}")

#: The patterns by kind (each a compiled regex over normalised text; the keyword ones need the checks in :func:`find_pii`).
PATTERNS = {"mobile": _MOBILE, "landline": _LANDLINE, "id_card": _ID, "id_card_15": _ID15, "bank_card": _CARD, "email": _EMAIL,
            "plate": _PLATE, "order": _ORDER, "order_en": _ORDER_EN, "account": _ACCOUNT, "account_en": _ACCOUNT_EN,
            "account_after": _ACCOUNT_AFTER, "user": _USER, "qq": _QQ, "local_phone": _LOCAL}


def _digits(s: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", s)


def _grouped(s: str, last: int = 3) -> bool:
    """Whether the digit groups of ``s`` (split by separators) have 3 digits or more (the last one ``last`` or more)."""
    groups = re.findall(r"[0-9]+", s)
    return all(len(g) >= 3 for g in groups[:-1]) and len(groups[-1]) >= last


def _landline(s: str) -> bool:
    """11 or 12 digits, and a 3-digit area code is 010 or 02x."""
    groups = re.findall(r"[0-9]+", s)
    return len("".join(groups)) in (11, 12) and (len(groups[0]) != 3 or groups[0] == "010" or groups[0].startswith("02"))


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _identifier(s: str, min_digits: int, after: str) -> bool:
    """A number after an order / account word is an identifier unless it is a date, an amount or a count."""
    nd = sum(c.isdigit() for c in s)
    if nd < min_digits or len(s) > 40:
        return False
    if _DATE_LIKE.fullmatch(s) or _UNIT_AFTER.match(after):
        return False
    return True


def _word_start(norm: str, i: int) -> bool:
    """Whether an English word starts at ``i`` (no ASCII letter before it)."""
    return i == 0 or not (norm[i - 1].isascii() and norm[i - 1].isalpha())


def _keyword_spans(norm: str, pat: re.Pattern, kind: str, min_digits: int, out: list) -> None:
    for m in pat.finditer(norm):
        if not _word_start(norm, m.start()):
            continue
        start, end = m.span(m.re.groups)
        if _GAP_STOP.search(norm, m.start(), start) or not _identifier(m.group(m.re.groups), min_digits, norm[end:end + 3]):
            continue
        out.append((start, end, kind))
        while (n := _NEXT.match(norm, end)) and _identifier(n.group(1), min_digits, norm[n.end():n.end() + 3]):
            start, end = n.span(1)
            out.append((start, end, kind))


def find_pii(text: str) -> list[tuple[int, int, str]]:
    """The PII spans of ``text`` as ``(start, end, kind)``, sorted and not overlapping.

    >>> find_pii("QQ 12345678，手机 138-1234-5678")
    [(3, 11, 'qq'), (15, 28, 'mobile')]
    """
    return _find(text.translate(_FOLD)) if _QUICK.search(text) else []


def _find(norm: str) -> list[tuple[int, int, str]]:
    """:func:`find_pii` on the normalised text."""
    low = norm.lower()
    found: list[tuple[int, int, str]] = []  # in order of priority: the first claim on a character wins
    for words, pat, kind, n in ((_ORDER_WORDS, _ORDER, "order", 5), (_ORDER_EN_WORDS, _ORDER_EN, "order", 5),
                                (_ACCOUNT_WORDS, _ACCOUNT, "account", 6), (_ACCOUNT_EN_WORDS, _ACCOUNT_EN, "account", 6)):
        if any(w in low for w in words):
            _keyword_spans(norm, pat, kind, n, found)
    if any(w in low for w in ("帐", "账", "qq")):
        found += [(*m.span(1), "account") for m in _ACCOUNT_AFTER.finditer(norm) if not (m.start() and norm[m.start() - 1].isalnum())]
    if any(w in low for w in _QQ_WORDS):
        found += [(*m.span(1), "qq") for m in _QQ.finditer(norm) if _word_start(norm, m.start()) and 5 <= len(_digits(m.group(1))) <= 12]
    for at in {max(0, m.start() - 64) for m in re.finditer("@", norm)}:
        found += [(m.start(), m.end(), "email") for m in _EMAIL.finditer(norm, at, at + 320)]
    for run in _RUN.finditer(norm):  # every number below has 11 digits or more: look only around such runs
        a, b = max(0, run.start() - 4), run.end() + 4
        found += [(m.start(), m.end(), "id_card") for pat in (_ID, _ID15) for m in pat.finditer(norm, a, b)
                  if _ID_DIGITS.fullmatch(_digits(m.group())) and _grouped(m.group(), 1)]
        found += [(m.start(), m.end(), "bank_card") for m in _CARD.finditer(norm, a, b) if _grouped(m.group(), 1) and _luhn(_digits(m.group()))]
        found += [(*m.span(1), "mobile") for m in _MOBILE.finditer(norm, a, b) if _grouped(m.group(1))]
        found += [(m.start(), m.end(), "landline") for m in _LANDLINE.finditer(norm, a, b) if _landline(m.group())]
    if any(w in low for w in _LOCAL_WORDS):
        found += [(*m.span(1), "local_phone") for m in _LOCAL.finditer(norm) if _word_start(norm, m.start())]
    if "用户" in norm:
        found += [(*m.span(1), "account") for m in _USER.finditer(norm)]
    found += [(m.start(), m.end(), "plate") for m in _PLATE.finditer(norm)]
    taken: list[tuple[int, int, str]] = []
    for s, e, k in found:
        if all(e <= ts or s >= te for ts, te, _ in taken):
            taken.append((s, e, k))
    return sorted(taken)


def _tail(s: str) -> str:
    """Stars for every character but the last 4 letters or digits (the last 2 when there are fewer than 8): order,
    account, QQ and local numbers."""
    d = _digits(s)
    keep = 4 if len(d) >= 8 else 2
    return "*" * (len(s) - keep) + d[-keep:]


def _masked(kind: str, span: str) -> str:
    d = _digits(span)
    if kind == "mobile":
        return f"{d[:3]}****{d[-4:]}"
    if kind == "landline":
        area = _digits(re.match(r"\(?\s*0[0-9]+", span).group())
        area = area[:3] if area[:3] == "010" or area[:2] == "02" else area[:4]
        local = d[len(area):]
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    if kind == "id_card":
        return f"{d[:6]}{'*' * (len(d) - 10)}{d[-4:]}"
    if kind == "bank_card":
        return f"{d[:4]}{'*' * (len(d) - 8)}{d[-4:]}"
    if kind == "email":
        m = _EMAIL.match(span)
        return f"{m.group(1)}***@{m.group(2)}"
    if kind == "plate":
        m = _PLATE.match(span)
        return f"{m.group(1)}{m.group(2)}***{m.group(4)}"
    return _tail(span)


def mask_pii(text: str | None) -> str | None:
    """Mask phone, ID-card, bank-card, QQ, account and order numbers, e-mail addresses and licence plates in ``text``.

    Keeps enough to recognise the value (first and last digits, the e-mail domain) and nothing that identifies
    the customer. ``None`` stays ``None``; anything else is masked as its ``str``.
    """
    if text is None:
        return None
    text = str(text)
    if not _QUICK.search(text):
        return text
    norm = text.translate(_FOLD)
    spans = _find(norm)
    if not spans:
        return text
    parts, pos = [], 0
    for s, e, kind in spans:
        parts += [text[pos:s], _masked(kind, norm[s:e])]
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


def mask_frame(df: Any, columns: list[str] | None = None) -> Any:
    """A copy of the DataFrame ``df`` with every text cell of ``columns`` (default: every object or string column) masked.

    Cells that are not strings (numbers, ``None``, ``NaN``, dates) stay as they are.

    >>> import pandas as pd
    >>> mask_frame(pd.DataFrame({"t": ["电话13812345678", "好的"], "n": [13812345678, 2]})).to_dict("list")
    {'t': ['电话138****5678', '好的'], 'n': [13812345678, 2]}
    """
    import pandas as pd

    out = df.copy()
    if columns is None:
        columns = [c for c in out.columns if pd.api.types.is_object_dtype(out[c]) or pd.api.types.is_string_dtype(out[c])]
    for c in columns:
        out[c] = out[c].map(lambda v: mask_pii(v) if isinstance(v, str) else v)
    return out
