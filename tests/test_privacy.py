"""Masking of customer PII: each pattern, and no over-masking of ordinary numbers."""

import re

import pytest

from conftest import shared_path
from qa_lib.privacy import PATTERNS, mask_pii


@pytest.mark.parametrize(
    "text, expected",
    [
        ("请回电13812345678", "请回电138****5678"),
        ("call +86 139-1234-5678 please", "call +86 139****5678 please"),
        ("座机 0755-83216543", "座机 0755-****6543"),
        ("身份证号 44030119900101123X 已核对", "身份证号 440301********123X 已核对"),
        ("mail Li.Wei+cs@mail.example.cn now", "mail L***@mail.example.cn now"),
        ("邮箱user5546@example.com，有问题联系我", "邮箱u***@example.com，有问题联系我"),  # no space after a Chinese word
        ("车牌京A12345违章", "车牌京A***45违章"),
        ("新能源车粤B·D12345", "新能源车粤B·***45"),
        ("沪A 8F2K9 停在门口", "沪A ***K9 停在门口"),
        ("订单号：202610051234567", "订单号：***********4567"),
        ("我的单号是 SF1234567890", "我的单号是 ********7890"),
        ("Order No. 112-7781234-5566 never arrived", "Order No. ************5566 never arrived"),
        ("tracking number 1Z999AA10123456784", "tracking number **************6784"),
    ],
)
def test_each_pattern_is_masked(text, expected):
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "价格 1299 元，优惠 ¥3,999.00",
        "2026-10-05 14:30 下单，2026年10月5日到货",
        "等了 72 小时，第 3 次打电话",
        "order arrived after 12 days, 3 items",
        "the order of 25000 units",  # no number word in front → not an order number
        "新App连不上，京A股票",  # a province character before ordinary words is not a plate
        "version 10.2.1305, build 20261005",
        "工单处理了 15 分钟",
    ],
)
def test_ordinary_numbers_stay(text):
    assert mask_pii(text) == text


def test_none_and_non_strings():
    assert mask_pii(None) is None
    assert mask_pii(13812345678) == "138****5678"


def test_masked_text_holds_no_pattern_and_masking_is_idempotent():
    text = "电话13812345678 邮箱 a.b@example.com 身份证11010519491231002X 车牌粤B12345 订单号DD2026100512 tel 010-62345678"
    once = mask_pii(text)
    assert mask_pii(once) == once
    for name, pat in PATTERNS.items():
        assert not [m for m in pat.finditer(once) if "*" not in m.group(0)], name
    assert not re.search(r"\d{7,}", once)


def test_real_dialogues_keep_their_length_class():
    """The JDDC transcripts (real customer-service chats) are already anonymised by their publisher:
    masking them must leave almost every line unchanged (no over-masking of ordinary text)."""
    path = shared_path("dialogues", "jddc_chat_sample.txt")
    lines = [ln.split("\t")[-1] for ln in path.read_text(encoding="utf-8").splitlines()[:5000]]
    changed = [ln for ln in lines if mask_pii(ln) != ln]
    assert len(changed) <= 0.01 * len(lines), changed[:10]
