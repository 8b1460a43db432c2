"""Planted PII and a scanner for it that does not use ``qa_lib.privacy``'s patterns (an oracle for any output file).

Plant :data:`PII_SAMPLES` into a test's input data (a transcript, a comment, a verbatim …), produce the outputs, then
assert ``unmasked(output_text) == []`` for every file. The samples come from the labelled masking corpus
(``tests/data/masking/generated.jsonl``) and cover every format the masker handles, in ASCII and full-width
forms, with and without separators; each text holds exactly one value (:data:`PII_VALUES`, same order).

>>> unmasked("客户电话13812345678")
['13812345678']
>>> unmasked("客户电话138****5678，邮箱 h***@163.com")
[]
>>> unmasked("<td>１３８ １２３４ ５６７８</td>")  # full-width and spaced still counts
['13812345678']
"""

from __future__ import annotations

import html
import re

#: (text as planted, the PII value in it, kind)
_SAMPLES = [
    ("客户电话13812345678", "13812345678", "mobile"),
    ("联系方式：137 4847 6963", "137 4847 6963", "mobile"),
    ("我是张先生１８３－９２６９－５５３４", "１８３－９２６９－５５３４", "mobile"),
    ("手机+86158-2004-8504（白天打不通）", "158-2004-8504", "mobile"),
    ("座机010-60383222", "010-60383222", "landline"),
    ("办公室(0931)2410905，找前台", "(0931)2410905", "landline"),
    ("家里电话是075778299927", "075778299927", "landline"),
    ("（025）37409156", "（025）37409156", "landline"),
    ("身份证号654223199407084447", "654223199407084447", "id18"),
    ("机主身份证号码为423553 19780609 9197。", "423553 19780609 9197", "id18"),
    ("身份证 ３５２７８４１９７２０５０６４８０９ 已核对", "３５２７８４１９７２０５０６４８０９", "id18"),
    ("15位身份证号440823480601076，请核实", "440823480601076", "id15"),
    ("老身份证624363 911008 876", "624363 911008 876", "id15"),
    ("退款到这张卡6228482234081845", "6228482234081845", "bank_card"),
    ("请打到6217 0012 1232 2906 201（建设银行）", "6217 0012 1232 2906 201", "bank_card"),
    ("钱退到 9558-8076-4411-7066 就行", "9558-8076-4411-7066", "bank_card"),
    ("邮件地址hhify245@163.com", "hhify245@163.com", "email"),
    ("我的邮箱是372854＠sina.com。", "372854＠sina.com", "email"),
    ("邮箱：tphoc.cohpt＠gmail.com，谢谢", "tphoc.cohpt＠gmail.com", "email"),
    ("请QQ8821056476 谢谢", "8821056476", "qq"),
    ("请ＱＱ：48019704。", "48019704", "qq"),
    ("请企鹅号45072679348。", "45072679348", "qq"),
    ("账号为：666589841769724 的流水", "666589841769724", "account"),
    ("我的帐号 是 3521 0683 0967 9040 09，谢谢", "3521 0683 0967 9040 09", "account"),
    ("我的卡号为：L60757911，谢谢", "L60757911", "account"),
    ("订单号：7497520189427，麻烦查一下", "7497520189427", "order"),
    ("单号 SF9038068171，麻烦查一下", "SF9038068171", "order"),
    ("运单号是950-1221168-0106，麻烦查一下", "950-1221168-0106", "order"),
    ("新能源车粤TF82488", "粤TF82488", "plate"),
    ("车牌津H 72048违章", "津H 72048", "plate"),
]
#: Texts to plant, one PII value each.
PII_SAMPLES: list[str] = [t for t, _, _ in _SAMPLES]
#: The value in each sample, as written there.
PII_VALUES: list[str] = [v for _, v, _ in _SAMPLES]

#: Full-width ASCII and the ideographic space to ASCII, one character for one.
_FOLD = str.maketrans({**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, "\u3000": " ", "\u00a0": " "})
#: What people put inside a number (spaces, dashes, dots, parentheses) — dropped before comparing.
_SEP = re.compile(r"[\s\-\u2010-\u2015.·・_()\[\]一]")


def normalise(text: str) -> str:
    """HTML entities resolved, full-width folded, lower case, separators removed: ``"（０２５）3740-9156"`` → ``"02537409156"``."""
    return _SEP.sub("", html.unescape(text).translate(_FOLD).lower())


def _windows(value: str, kind: str) -> list[str]:
    """What must not be readable: for an e-mail the local part after its first character, up to the @; for a value
    under 10 characters all of it; else any run of all but 4 of its characters (a mask that keeps the first 3 and
    last 4 leaves no such run)."""
    k = normalise(value)
    if kind == "email":
        return [k.split("@")[0][1:] + "@"]
    w = len(k) if len(k) < 10 else len(k) - 4
    return [k[i:i + w] for i in range(len(k) - w + 1)]


_WINDOWS = [_windows(v, k) for _, v, k in _SAMPLES]


def unmasked(text: str) -> list[str]:
    """The values of :data:`PII_SAMPLES` still readable in ``text`` (an output page, sheet, CSV or log, as text)."""
    t = normalise(text)
    return [v for v, ws in zip(PII_VALUES, _WINDOWS) if any(w in t for w in ws)]
