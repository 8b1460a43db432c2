"""Writes ``generated.jsonl``: labelled masking cases for every PII format and labelled negatives (seeded, reproducible).

Run ``python tests/data/masking/make_generated.py`` to rewrite the file (the test reads the committed file). Each line is
``{"kind": format or negative class, "text": ..., "pii": [[exact substring, kind], ...]}``; a negative has ``"pii": []``.
The values are random (valid structure: mobile prefixes, area codes, ID check digits, Luhn digits), not real people's.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("generated.jsonl")
R = random.Random(20261005)
N = 60  # cases per PII format

FW = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"})


def fw(s: str) -> str:
    """The full-width form of the ASCII characters of ``s``."""
    return s.translate(FW)


def digits(n: int, first: str = "0123456789") -> str:
    return R.choice(first) + "".join(R.choice("0123456789") for _ in range(n - 1))


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def id_check(body17: str) -> str:
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(a) * b for a, b in zip(body17, w)) % 11]


PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
             "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"]
MOBILE_PREFIX = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150", "151", "152", "153",
                 "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "185",
                 "186", "187", "188", "189", "198", "199"]


def date(y0: int, y1: int) -> tuple[int, int, int]:
    return R.randint(y0, y1), R.randint(1, 12), R.randint(1, 28)


def sep3(a: str, b: str, c: str, sep: str) -> str:
    return f"{a}{sep}{b}{sep}{c}"


def case(kind: str, template: str, value: str, label: str | None = None) -> dict:
    """``template`` with ``{}`` replaced by ``value``; the labelled span is ``label`` (default: the whole value)."""
    label = label or value
    text = template.format(value)
    assert label in text
    return {"kind": kind, "text": text, "pii": [[label, kind]]}


# ------------------------------------------------------------------------------------------------ PII formats
def mobiles() -> list[dict]:
    ctx = ["请回电{}", "我的手机号是{}，麻烦尽快联系", "联系方式：{}", "{}", "客户留了号码{}说晚上再打", "手机{}（白天打不通）",
           "call me at {} please", "号码为{}。", "电话:{}", "我是张先生{}", "换新号码了{}谢谢", "回拨到 {} 就行"]
    out = []
    for i in range(N):
        p, a, b = R.choice(MOBILE_PREFIX), digits(4), digits(4)
        style = i % 10
        if style == 0:
            v = p + a + b
        elif style == 1:
            v = sep3(p, a, b, R.choice([" ", "-", ".", "·", " - "]))
        elif style == 2:
            v = sep3(p, a, b, "\u3000")
        elif style == 3:
            v = fw(p + a + b)
        elif style == 4:
            v = fw(sep3(p, a, b, R.choice(["-", "."])))
        elif style == 5:
            v = p + a + " " + b
        elif style == 6:
            v = p[:3] + a + "-" + b
        else:
            v = sep3(p, a, b, R.choice([" ", "-", "", "."]))
        prefix = ["", "", "", "+86 ", "+86-", "86", "0086 ", "+86"][i % 8] if style in (0, 1, 7) else ""
        out.append(case("mobile", R.choice(ctx).replace("{}", prefix + "{}"), v))
    return out


def landlines() -> list[dict]:
    three = ["010", "020", "021", "022", "023", "024", "025", "027", "028", "029"]
    four = ["0755", "0571", "0512", "0532", "0531", "0591", "0871", "0898", "0931", "0351", "0471", "0769", "0757", "0316", "0994"]
    ctx = ["座机{}", "家里电话是{}", "固话：{}", "办公室{}，找前台", "tel {}", "{}（工作日）", "{}", "请打{}转人工", "公司电话 {} 。"]
    out = []
    for i in range(N):
        area = R.choice(three) if i % 3 == 0 else R.choice(four)
        local = digits(8 if len(area) == 3 or i % 2 else 7, "2345678")
        h, t = local[:-4], local[-4:]
        v = [f"{area}-{local}", f"{area}{local}", f"({area}){local}", f"（{area}）{local}", f"({area}) {local}", f"{area} {local}",
             f"{area}-{h}-{t}", f"{area} {h} {t}", fw(f"{area}-{local}"), fw(f"({area}){local}"), f"{area}－{local}",
             fw(f"{area}{local}")][i % 12]
        out.append(case("landline", R.choice(ctx), v))
    return out


def id18() -> list[dict]:
    ctx = ["身份证号{}", "证件号码：{}", "我的身份证是{}，名字王芳", "{}", "ID {}", "身份证 {} 已核对", "机主身份证号码为{}。"]
    out = []
    for i in range(N):
        y, m, d = date(1950, 2005)
        body = R.choice(PROVINCES) + digits(4) + f"{y:04d}{m:02d}{d:02d}" + digits(3)
        v = body + id_check(body)
        v = [v, v.lower(), f"{v[:6]} {v[6:14]} {v[14:]}", f"{v[:6]}-{v[6:10]}-{v[10:14]}-{v[14:]}", fw(v), f"{v[:6]} {v[6:10]} {v[10:14]} {v[14:]}",
             v, fw(f"{v[:6]} {v[6:14]} {v[14:]}")][i % 8]
        out.append(case("id18", R.choice(ctx), v))
    return out


def id15() -> list[dict]:
    ctx = ["老身份证{}", "身份证：{}", "{}是我爸的身份证", "证件号 {}", "{}", "15位身份证号{}，请核实"]
    out = []
    for i in range(N):
        y, m, d = date(1930, 1998)
        v = R.choice(PROVINCES) + digits(4) + f"{y % 100:02d}{m:02d}{d:02d}" + digits(3)
        v = [v, fw(v), f"{v[:6]} {v[6:12]} {v[12:]}", v][i % 4]
        out.append(case("id15", R.choice(ctx), v))
    return out


def bank_cards() -> list[dict]:
    bins = ["622202", "622848", "621700", "622700", "436742", "622588", "621226", "625965", "955880", "601382", "622262", "403391", "512431"]
    ctx = ["退款到这张卡{}", "卡号：{}", "银行卡{}，户名李娜", "请打到{}（建设银行）", "{}", "card no. {}", "钱退到 {} 就行",
           "我的工资卡是{}。", "转账到{}谢谢"]
    out = []
    for i in range(N):
        n = [16, 19, 16, 19, 17, 18][i % 6]
        body = R.choice(bins) + digits(n - 7)
        v = body + luhn_digit(body)
        groups = " ".join(v[j:j + 4] for j in range(0, len(v), 4))
        v = [v, groups, groups.replace(" ", "-"), fw(v), fw(groups), groups.replace(" ", "  "), v][i % 7]
        out.append(case("bank_card", R.choice(ctx), v))
    return out


def emails() -> list[dict]:
    domains = ["qq.com", "163.com", "126.com", "gmail.com", "sina.com", "example.com.cn", "outlook.com", "foxmail.com", "corp.example.cn"]
    ctx = ["邮箱{}", "邮箱：{}，谢谢", "发到{}就行", "email: {}", "我的邮箱是{}。", "{}", "请回复至 {} ", "邮件地址{}"]
    out = []
    for i in range(N):
        letters = "".join(R.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(R.randint(3, 8)))
        local = [letters + digits(R.randint(1, 4)), digits(R.randint(6, 10), "123456789"), letters + "." + letters[::-1],
                 letters + "_" + digits(2), letters.capitalize() + "-" + digits(4)][i % 5]
        dom = R.choice(domains)
        v = [f"{local}@{dom}", f"{local}＠{dom}", fw(f"{local}@{dom}"), f"{local}@{dom}".upper(), f"{local} @ {dom}",
             f"{local}＠{fw(dom)}"][i % 6]
        out.append(case("email", R.choice(ctx), v))
    return out


def qqs() -> list[dict]:
    kws = ["QQ", "qq：", "QQ号", "QQ号码是", "扣扣", "加我QQ ", "ＱＱ：", "企鹅号", "扣扣号是：", "QQ: ", "qq号为", "我的QQ是"]
    out = []
    for i in range(N):
        v = digits(R.randint(5, 11), "123456789")
        v = fw(v) if i % 5 == 4 else v
        kw = kws[i % len(kws)]
        tail = R.choice(["", "，加我", " 谢谢", "（备注订单）", "。"])
        out.append(case("qq", R.choice(["", "请", "有事", "客户的"]) + kw + "{}" + tail, v))
    return out


def accounts() -> list[dict]:
    kws = ["账号", "帐号", "账户", "卡号", "户号", "宽带账号", "银行账号", "account no. ", "Account number: ", "card no ", "资金账户", "会员卡卡号"]
    seps = ["", "：", ":", " ", "是", "为：", " 是 "]
    out = []
    for i in range(N):
        n = R.randint(12, 19)
        v = digits(n, "123456789")
        if i % 6 == 1:
            v = " ".join(v[j:j + 4] for j in range(0, len(v), 4))
        elif i % 6 == 2:
            v = fw(v)
        elif i % 6 == 3:
            v = R.choice(["GZ", "HZDSL", "ad", "L"]) + digits(R.randint(8, 12))
        kw = kws[i % len(kws)]
        sep = "" if kw.endswith(" ") else R.choice(seps)
        out.append(case("account", R.choice(["", "我的", "客户", "麻烦查一下"]) + kw + sep + "{}" + R.choice(["", "，谢谢", " 的流水", "。"]), v))
    return out


def orders() -> list[dict]:
    kws = ["订单号：", "订单号", "单号 ", "运单号是", "快递单号:", "订单编号：", "Order No. ", "tracking number ", "工单号", "我的单号是 ", "订单"]
    out = []
    for i in range(N):
        v = [digits(R.randint(10, 18), "123456789"), "DD" + digits(12), "SF" + digits(10), f"{digits(3)}-{digits(7)}-{digits(4)}",
             "1Z" + digits(16), fw(digits(12))][i % 6]
        kw = kws[i % len(kws)]
        out.append(case("order", kw + "{}" + R.choice(["", " 还没发货", "，麻烦查一下", "。"]), v))
    return out


def plates() -> list[dict]:
    provinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    ctx = ["车牌{}违章", "新能源车{}", "{} 停在门口", "我的车是{}，麻烦登记", "车号{}"]
    out = []
    for i in range(N // 2):
        body = R.choice(letters) + digits(4) if i % 3 else digits(5)
        if i % 4 == 1:
            body = R.choice("DF") + digits(5)
        v = R.choice(provinces) + R.choice(letters) + R.choice(["", "·", " "]) + body
        out.append(case("plate", R.choice(ctx), v))
    return out


def mixed() -> list[dict]:
    """Several formats in one customer turn, as in a real complaint."""
    out = []
    for _ in range(N // 2):
        m = R.choice(MOBILE_PREFIX) + digits(8)
        body = R.choice(["622202", "621700", "436742"]) + digits(12)
        card = body + luhn_digit(body)
        land = R.choice(["0755", "0571", "0532"]) + "-" + digits(8, "2345678")
        mail = "".join(R.choice("abcdefghij") for _ in range(6)) + digits(2) + "＠163.com"
        text = f"退款请打到{card}，户名王小明，手机{fw(m)}，家里座机{land}，有问题发邮件{mail}，2026年10月5日前处理，金额1299.00元"
        out.append({"kind": "mixed", "text": text, "pii": [[card, "bank_card"], [fw(m), "mobile"], [land, "landline"], [mail, "email"]]})
    return out


def regrouped() -> list[dict]:
    """Groupings added after the first version of the file (their own random stream, so the cases above stay as they were):
    mobiles split 4-4-3 / 3-3-5 / 4-3-4, cards split 6-13, QQ after 加Q."""
    r = random.Random(7)
    out = []
    for i in range(30):
        v = r.choice(MOBILE_PREFIX) + "".join(r.choice("0123456789") for _ in range(8))
        cut = [(4, 8), (3, 6), (4, 7)][i % 3]
        sep = r.choice([" ", "-", ".", "\u3000"])
        v = v[:cut[0]] + sep + v[cut[0]:cut[1]] + sep + v[cut[1]:]
        out.append(case("mobile", r.choice(["手机{}", "打{}找我", "{}", "联系人王女士 {}"]), fw(v) if i % 5 == 0 else v))
    for _ in range(20):
        body = r.choice(["622202", "621700", "436742", "622848"]) + "".join(r.choice("0123456789") for _ in range(12))
        v = body + luhn_digit(body)
        out.append(case("bank_card", r.choice(["退款到{}", "卡：{}", "{} 农行"]), v[:6] + r.choice([" ", "-"]) + v[6:]))
    for _ in range(10):
        v = str(r.randint(10000, 99999999999))
        out.append(case("qq", r.choice(["加Q{}", "加q {}", "有问题加Q：{}"]), v))
    return out


# ------------------------------------------------------------------------------------------------ negatives
def negatives() -> list[dict]:
    out: list[dict] = []

    def neg(kind: str, text: str) -> None:
        out.append({"kind": kind, "text": text, "pii": []})

    for _ in range(30):
        y, m, d = date(1990, 2030)
        hh, mm, ss = R.randint(0, 23), R.randint(0, 59), R.randint(0, 59)
        neg("date", R.choice([f"{y}-{m:02d}-{d:02d} 下单", f"{y}/{m:02d}/{d:02d}", f"{y}.{m}.{d}号购买", f"{y}年{m}月{d}日到货",
                              f"build {y}{m:02d}{d:02d}", f"{y}{m:02d}{d:02d}", f"{m}月{d}日", fw(f"{y}年{m}月{d}日"),
                              f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}", f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}",
                              f"时间{y}{m:02d}{d:02d}{hh:02d}{mm:02d}{ss:02d}", f"日期：{y}年{m:02d}月{d:02d}日 {hh:02d}:{mm:02d}:{ss:02d}"]))
        neg("time", R.choice([f"{hh:02d}:{mm:02d}", f"{hh:02d}:{mm:02d}:{ss:02d}", f"下午{hh % 12 + 1}点{mm}分", fw(f"{hh:02d}:{mm:02d}"),
                              f"营业时间 {hh % 12:02d}:00-{hh % 12 + 9:02d}:30", f"{hh}:{mm:02d}到{(hh + 8) % 24}:00"]))
        neg("duration", R.choice([f"通话时长 {hh % 2:02d}:{mm:02d}:{ss:02d}", f"等了{R.randint(2, 180)}分钟", f"{R.randint(10, 999)}秒",
                                  f"{R.randint(1, 9)}小时{R.randint(1, 59)}分钟", f"已经{R.randint(24, 200)}小时了", f"处理了 {R.randint(1, 90)} 分钟"]))
    for _ in range(30):
        a = R.randint(1, 999999)
        neg("amount", R.choice([f"{a}元", f"¥{a:,}.00", f"￥{a}", f"{a:,}.{R.randint(10, 99)}", f"RMB {a}.{R.randint(10, 99)}",
                                f"退款 {a} 元", f"话费余额{a / 100:.2f}元", f"订单金额 {a} 元", f"支付金额{a}元", f"共计{a / 100:.2f}元",
                                f"账户余额 {a}.{R.randint(10, 99)} 元", f"充值{a}元到账户", f"订单金额{a}元", f"信用卡有{a}额度",
                                f"订单共{R.randint(2, 9)}件，合计{a}元", fw(f"{a}元"), f"价格{a:,}元，优惠{R.randint(1, 99)}元",
                                f"{R.randint(1, 9)},{R.randint(100, 999)},{R.randint(100, 999)}元"]))
        neg("percent", R.choice([f"{R.randint(1, 99)}.{R.randint(0, 9)}%", f"{R.randint(1, 100)}％", f"满意度 {R.randint(50, 99)}.{R.randint(0, 9)}%",
                                 f"同比增长{R.randint(1, 300)}%"]))
        neg("count", R.choice([f"{R.randint(1, 99)}件", f"第{R.randint(1, 30)}次打电话", f"{R.randint(100, 99999)}人", f"共 {R.randint(10000, 99999)} 台",
                               f"the order of {R.randint(10000, 99999)} units", f"{R.randint(2, 12)} items", f"流量{R.randint(100, 9999)}MB",
                               f"剩余流量 {R.randint(100, 9999)}.{R.randint(10, 99)}MB"]))
    models = ["iPhone 15 Pro", "v10.2.1305", "版本 6.7.0.0163", "型号 X710L", "NW705+", "SM-G9900", "Windows 10 19045.3570",
              "固件 1.2.12087", "Mate 60 Pro", "T2 2.6.2系统", "91助手V3.2.1Beta", "1.1.0.21的版本", "R4A4-1.1.103", "43L5000的电视",
              "APR-R4A4-V1.1.104CN", "os x 10.0.4", "3.6.1.", "4.1.34客户端", "MacBook Pro 2019", "A1533", "i9250", "K860i", "x710L"]
    for m in models:
        neg("version", f"我的设备是{m}，升级后出问题")
    ids = ["编号1085241", "工号9813", "机器编号0011020", "错误码 4114030193", "IP 114.114.114.114", "192.168.1.1", "10086", "95555",
           "400-810-1616", "4008123456", "12315", "快递 7312046958 已签收", "会员号是我的微博号", "取货码16154007", "第3221449号机器",
           "拨打10010", "发送到10655768", "错误651", "10.8.0.645", "203.0.113.7", "工号B-045", "9600169", "1001013", "短信代码10669611",
           "1065502006714710900", "10655010184520", "尾号6258的订单", "186****7005", "我的QQ版本2013 v4.2.1 1575", "编号：1189409",
           "单号还没给我", "订单已经3天了", "账号被盗了3次", "电话打了20次", "QQ群里有200人", "卡号显示了几秒", "运单号稍后发您",
           "第12345位客户", "用户1234名", "订单2026-10-05下的", "订单于20261005下单", "账号2026年注册的", "电话 95555", "电话：10086"]
    for t in ids:
        neg("ordinary_id", t)
    long_numbers = []
    while len(long_numbers) < 12:  # 16-19 digit numbers that fail the Luhn check and are no ID number
        v = digits(R.choice([16, 17, 19]), "3456")
        body, check = v[:-1], v[-1]
        if luhn_digit(body) != check:
            long_numbers.append(v)
    for v in long_numbers:
        neg("long_number", f"流水号{v}")  # 流水号 is not an order or account word
    for t in ["套餐内剩余流量 3072.00MB  结转流量使用 520.60MB", "1兆360元,你们给我装的40多kb网速", "从12M降速到4M", "2014-01-31 00:21 0时20分",
              "时间戳 1696500000000", "20261005143005", "13.99 12.50 45.6", "1.5 2.3 3.8 4.4", "评分 4.8/5.0", "比分 3:2",
              "12:00-14:00 午休", "第2026号文件", "0.13812345678", "一共 12345678 次播放", "价格 1299 元，2026-10-05 下单",
              "预计3-5个工作日到账", "3+2=5", "尺码41码，颜色蓝色", "6兆宽带960元", "208路公交车站"]:
        neg("text", t)
    return out


def main() -> None:
    rows = (mobiles() + landlines() + id18() + id15() + bank_cards() + emails() + qqs() + accounts() + orders() + plates() + mixed() + regrouped()
            + negatives())
    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} lines → {OUT}")


if __name__ == "__main__":
    main()
