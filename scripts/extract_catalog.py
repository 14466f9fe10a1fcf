"""Extract seed 003's 附件4 (共性清单, 174 items) and 附件5 (六大平台个性清单, 202 items) into the catalog preset
qifu/catalog/presets/qiantang.yaml. Run once (the output is committed):

    .venv/bin/python scripts/extract_catalog.py /work/shared/seeds/003_*.txt

The seed is text extracted from a PDF: table rows are tab-separated, merged cells are missing or empty, long cells
break onto continuation lines (after a page break), and some cells have a space between every character. The
parser finds each row by its number (1, 2, … in order; "1 2 3" is 123), then reads the row by its anchors: the
three-level category holds the provider mark (★ ▲ ●), the frequency is 高频/中频/低频, the term 长期/年度更新. Merged
cells (first/second level, responsible units) carry down from the row above. `FIXES` corrects what the layout
loses (checked by hand against the seed). Contacts are never taken from the seed: every item gets a fictional one.
"""

import re
import sys
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parents[1] / "qifu" / "catalog" / "presets" / "qiantang.yaml"
MARKS = {"★": "government", "▲": "market", "●": "society"}
CJK = "\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef\u2018\u2019\u201c\u201d（）《》、，。；：！？"
SPACE = re.compile(f"(?<=[{CJK}])\\s+(?![0-9]+[、.．])|\\s+(?=[{CJK}])")  # keeps "需求 2、…" apart
FREQ = {"高频": "high", "中频": "medium", "低频": "low"}

# 一级类别 by row number: the seed's first-level column (its merged cell only shows fragments on most rows).
LEVEL1 = [(1, 42, "人才服务"), (43, 57, "科创服务"), (58, 61, "政策服务"), (62, 79, "金融服务"), (80, 107, "开放服务"),
          (108, 121, "法治服务"), (122, 132, "诉求服务"), (133, 136, "兜底服务"), (137, 174, "审批服务")]
SECTION = {"人才服务": "qt-talent", "科创服务": "qt-tech", "科技服务": "qt-tech", "政策服务": "qt-policy",
           "金融服务": "qt-finance", "开放服务": "qt-opening", "法治服务": "qt-legal", "法律服务": "qt-legal",
           "诉求服务": "qt-appeals", "兜底服务": "qt-fallback", "审批服务": "qt-project"}
# 附件5's six lists, in order: the station that serves each, its lead platform (the unit when a row names none).
PLATFORMS = [("生物医药", "qt-st-yyg", "yyg", "医药港管理办公室"), ("数字经济", "qt-st-dcxz", "dcxz", "大创小镇管理办公室"),
             ("高端装备", "qt-st-qjzz", "qjzz", "前进智造园管理办公室"), ("新材料", "qt-st-ljgk", "ljgk", "临江高科园管理办公室"),
             ("综合保税", "qt-st-zbq", "zbq", "综合保税区管理办公室"), ("集成电路", "qt-st-xingu", "xingu", "钱塘芯谷管理办公室")]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


def clean(text: str) -> str:
    text = re.sub(r"</?p>", " ", text or "")
    text = SPACE.sub("", text)
    text = re.sub(r"(?<=[，。；：、！？）》”])\s+", "", text)  # full-width punctuation needs no space after it
    return " ".join(text.split()).strip()


def fictional_contact(n: int) -> str:
    """A made-up contact: a surname + 专员 (the seed's contacts are names or X老师) and a number that cannot be
    dialled (local numbers never start with 0)."""
    return f"{SURNAMES[n % len(SURNAMES)]}专员 0571-0000{n:04d}"


# Phone numbers printed inside the seed's texts (not only in its contact column) are left out too.
SCRUB = [("“85901890”营商热线", "“8590”营商热线"), ("钱塘营商热线“85901890”", "钱塘营商热线“8590”"),
         ("拨打4008260707直接咨询联系", "拨打高层次人才医疗咨询热线直接咨询联系")]


def scrub(entry: dict) -> dict:
    for key, value in entry.items():
        if isinstance(value, str):
            for old, new in SCRUB:
                value = value.replace(old, new)
            entry[key] = value
    return entry


def number(field: str) -> int | None:
    digits = field.replace(" ", "")
    return int(digits) if digits.isdigit() else None


# --- 附件4 ----------------------------------------------------------------------------------------------------

def annex4_rows(lines: list[str]) -> dict[int, list[list[str]]]:
    """Row number -> its lines split into cells (first line first)."""
    rows: dict[int, list[list[str]]] = {}
    expected = 1
    current = None
    for line in lines:
        if not line.strip() or line.startswith("---"):
            continue
        cells = line.rstrip("\n").split("\t")
        n = number(cells[0])
        if n is not None and expected <= 174 and (n == expected or str(expected).startswith(str(n))
                                                  and len(str(n)) < len(str(expected)) and len(cells) > 3):
            current = expected
            rows[current] = [cells]
            expected += 1
        elif current is not None:
            rows[current].append(cells)
    return rows


def level1_of(n: int) -> str:
    return next(name for first, last, name in LEVEL1 if first <= n <= last)


def parse_annex4(lines: list[str]) -> list[dict]:
    rows = annex4_rows(lines)
    assert len(rows) == 174, f"附件4: {len(rows)} rows"
    items = []
    prev = {"level1": "", "level2": "", "units": ""}
    for n in range(1, 175):
        main, *more = rows[n]
        cells = [clean(c) for c in main]
        extra = [[clean(c) for c in cont] for cont in more]
        # the three-level category: the first cell with a provider mark (or, split by a page break, the cell
        # whose continuation holds the mark)
        name_at = next((i for i, c in enumerate(cells) if i > 0 and c and c[-1] in MARKS), None)
        if name_at is None:
            name_at = next((i for i, c in enumerate(cells) if i > 0 and any(m in c for m in MARKS)), None)
        while name_at is not None and name_at + 1 < len(cells) and cells[name_at + 1][-1:] in MARKS \
                and len(cells[name_at + 1]) <= len(cells[name_at]) + 2:
            name_at += 1  # the second level repeats the third (a single-item group): the later cell is the item
        mark = ""
        if name_at is not None:
            name = cells[name_at]
            mark = next(m for m in name if m in MARKS) if any(m in name for m in MARKS) else ""
        else:  # the mark is on a continuation line: the name is the cell before the content
            tail = "".join(c for cont in extra for c in cont if c and any(m in c for m in MARKS) and len(c) <= 8)
            mark = next((m for m in tail if m in MARKS), "")
            name_at = 3 if len(cells) > 3 and cells[3] else 2
            name = cells[name_at] + tail
        name = re.sub("[★▲●]", "", name).strip()
        freq_at = next((i for i, c in enumerate(cells) if c.replace(" ", "") in FREQ), None)
        after = cells[freq_at + 1:] if freq_at is not None else []
        before = cells[name_at + 1:freq_at] if freq_at is not None else cells[name_at + 1:]
        content = before[0] if before else ""
        process = before[1] if len(before) > 1 else ""
        units = before[2] if len(before) > 2 else ""
        if len(before) > 3:  # more cells than columns: the content was split
            content, process, units = "".join(before[:-2]), before[-2], before[-1]
        # continuation lines: their text joins the content/process cells by position when the main line has all
        # fourteen columns; otherwise the longest fragments go to the process (page breaks split the long cells)
        for cont in extra:
            for i, text in enumerate(cont):
                if not text or any(m == text for m in MARKS) or (text and text[-1] in MARKS and len(text) <= 8):
                    continue
                if i in (0, 1, 2):
                    continue  # fragments of the merged category cells
                if i == 4 and len(main) >= 13:
                    content += text
                elif i == 5 and len(main) >= 13:
                    process += text
                elif i == 6 and len(main) >= 13:
                    units += text
                elif i in (4, 5):
                    process += text
        level2 = ""
        if name_at >= 2:
            candidate = cells[name_at - 1]
            if candidate and not re.search("牵头|单位|人才办|组织部|局[)）\\]]|^[:：(（]|服务\\s*[\\[(（]", candidate):
                level2 = candidate
        level1 = level1_of(n)
        if level1 != prev["level1"]:
            prev = {"level1": level1, "level2": "", "units": ""}
        level2 = re.sub("[★▲●]", "", level2).strip() or prev["level2"]
        units = units or prev["units"]
        frequency = FREQ.get(cells[freq_at].replace(" ", ""), "") if freq_at is not None else ""
        target = after[0] if after else ""
        area = after[1] if len(after) > 1 else ""
        term_text = after[2] if len(after) > 2 else ""
        online = after[3] if len(after) > 3 else ""
        offline = after[4] if len(after) > 4 else ""
        online = "" if online in ("/", "否", "无", "是") else online
        offline = "" if offline in ("/", "否", "无", "是") else offline
        if re.search(r"\d{7}", offline.replace(" ", "")):  # no online cell: the offline one moved left
            online, offline = "", online
        carried = prev.get("row", {})
        if freq_at is None and carried:  # merged cells (frequency and everything after it) from the row above
            frequency = carried["frequency"]
            target, area, online, offline = (carried["target_users"], carried["area"], carried["online_channel"],
                                             carried["offline_channel"])
            term_text = "年度" if carried["term"] == "yearly" else ""
            process = process or carried["process"]
        elif not any(after) and carried:
            target, area, online, offline = (carried["target_users"], carried["area"], carried["online_channel"],
                                             carried["offline_channel"])
        item = {"seq": n, "level1": level1, "level2": level2, "name": name, "provider_side": MARKS.get(mark, ""),
                "content": content, "process": process, "units": units, "frequency": frequency,
                "target_users": target, "area": area, "term": "yearly" if "年度" in term_text else "long_term",
                "online_channel": "" if online in ("/", "否") else online,
                "offline_channel": "" if offline in ("/", "是") else offline}
        item.update(FIXES4.get(n, {}))
        prev = {"level1": level1, "level2": item["level2"], "units": item["units"], "row": item}
        items.append(item)
    return items


# Corrections by hand (row number -> fields), where the PDF layout loses a cell or shifts one.
_L2_168 = "区行政审批局、区综合行政执法局、区公安分局（交警）、各管线单位（钱塘供电公司、市水务控股集团、萧山环境集团、中国燃气、杭州东能燃气、杭州钱江燃气等）"
_UNITS_145 = "区行政审批局、区发改局、区公安分局（交警）、区政法委、区住建局、区应急管理局、区综合行政执法局、市规划资源局钱塘分局、市生态环境局钱塘分局"
_UNITS_164 = ("区行政审批局、区发改局、区公安分局（交警）、区住建局、区综合行政执法局、市规划资源局钱塘分局、钱塘供电公司、"
              "市水务控股集团、萧山环境集团")
FIXES4: dict[int, dict] = {
    3: {"level2": "高层次人才永居推荐服务", "content": "提供外籍高层次人才申请永久居留推荐服务。",
        "process": "人才提出申请并提交相关材料—中心受理初审—区委人才办复审—区委人才办开具推荐函—中心将推荐函交至人才"},
    4: {"level2": "高层次人才永居推荐服务"},
    # the seed gives row 20 no provider mark; its neighbours in 大学生创业服务 are ● (19) and ★ (21): taken as ●
    20: {"provider_side": "society"},
    25: {"level2": "大学生融入钱塘服务"}, 26: {"level2": "大学生融入钱塘服务"}, 27: {"level2": "大学生融入钱塘服务"},
    43: {"online_channel": "企服新干线（“钱塘校融”）", "offline_channel": "综合服务中心"},
    # 服务频次 "一年一次" (not 高/中/低): taken as 低频
    45: {"content": "针对中小企业技术需求不明确、成果承接能力弱等问题，推出“博士专家入企”品牌活动，由政府根据企业需求匹配高校"
                    "博士专家，并资助专家入企开展为期一年的技术合作，构建“企业出题、高校解题、政府助题”的成果育成孵化体系。",
         "process": "浙里办或企服新干线找到“钱塘校融”并在报名开放期间在线提交技术需求--走访企业确认需求--面向高校发布需求--"
                    "博士专家报名--校企双向对接并签约--博士入企服务--汇报考核--跟踪回访",
         "units": "科学城管理办公室", "frequency": "low", "target_users": "所有企业", "area": "全区", "term": "yearly",
         "online_channel": "企服新干线（“钱塘校融”）", "offline_channel": "综合服务中心"},
    102: {"process": "宣传、解答并帮助企业申报各级境外参展扶持政策。", "units": "区商务局"},
    122: {"online_channel": "钱塘营商热线"},
    133: {"name": "7*24小时自助服务大厅"},  # the seed's 三级 cell says 7*25, its 二级 cell 7*24
    136: {"content": "开通AI自动问答服务，依托“企服新干线”平台，开发高频服务事项标准化问答库，随时解答企业各类需求。",
          "process": "", "units": "区经信科技局", "frequency": "", "target_users": "所有企业和个人", "area": "全区",
          "online_channel": "企服新干线（政务服务“一号呼”、视频远程导办）", "offline_channel": "综合服务中心"},
    143: {"content": "深化企业开办前行政指导,围绕政务帮办、法律风险等基础性问题,通过现场、电话及视频等方式进行宣传、指导;"},
    145: {"units": _UNITS_145, "content": "项目前期联合指导手册制定",
          "process": "1、企业在项目签约后自行或通过产业平台向区行政审批局提出需求 2、区行政审批局汇总各审查审批部门的指导内容"
                     "形成指导手册 3、区行政审批局发放给企业"},
    155: {"process": "1、企业向区行政审批局提出需求 2、区行政审批局汇总相关部门的政策形成政策文件包推送给企业"},
    157: {"content": "审批前系统操作培训", "process": "1、审批部门主动询问企业需求 2、根据企业需求开展培训"}, 164: {"units": _UNITS_164}, 168: {"units": _L2_168},
    **{n: {"level2": "既有工业厂房装修改造审批服务"} for n in range(157, 164)},
    **{n: {"target_users": "企业", "area": "全区", "term": "long_term", "online_channel": ""} for n in (165, 166)},
    **{n: {"units": _L2_168} for n in range(169, 175)},
}


# --- 附件5 ----------------------------------------------------------------------------------------------------

def parse_annex5(lines: list[str]) -> list[dict]:
    items = []
    platform = -1
    expected = 1
    category = ""
    for line in lines:
        heading = re.match(r"^[一二三四五六]、(\S+?)产业服务清单", line.strip())
        if heading:
            platform += 1
            assert PLATFORMS[platform][0] == heading.group(1), heading.group(1)
            expected, category = 1, ""
            continue
        cells = [clean(c) for c in line.rstrip("\n").split("\t")]
        if platform < 0 or not cells or number(cells[0]) != expected:
            if items and items[-1]["node"] == PLATFORMS[platform][1] and cells and not cells[0] and len(cells) > 2 \
                    and cells[2] and not cells[2].startswith("联系"):
                items[-1]["content"] += cells[2]  # a brief broken by a page break
            continue
        brief_at = next((i for i, c in enumerate(cells) if i > 0 and c[:1] in MARKS), None)
        assert brief_at is not None, line
        if brief_at >= 2 and cells[brief_at - 1]:
            category = cells[brief_at - 1]
        brief = cells[brief_at]
        units = ""
        for c in cells[brief_at + 1:]:
            found = re.fullmatch(r"[(（](.+)[)）]", c)
            if found:
                units = found.group(1)
        if not units:
            inline = re.search(r"[(（]((?:区|省|市|科学城)[^()（）]*)[)）]$", brief)
            if inline:
                units = inline.group(1)
        _title, node, short, lead = PLATFORMS[platform]
        items.append({"seq": expected, "node": node, "short": short, "level1": category,
                      "provider_side": MARKS[brief[0]], "content": brief[1:].strip(), "units": units or lead})
        expected += 1
    for item in items:
        text = item["content"].rstrip("；;。")
        head, *rest = re.split(r"[：:，,；;。]", text, maxsplit=1)
        if len(head) <= 4 and head.endswith("服务") and rest:  # "审批服务：为科研…" names its kind, not the item
            head = re.split(r"[：:，,；;。]", rest[0], maxsplit=1)[0]
        item["name"] = head if 4 <= len(head) <= 40 else text[:40]
    return items


def main(path: str) -> None:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    start4 = next(i for i, line in enumerate(lines) if line.startswith("附件 4"))
    start5 = next(i for i, line in enumerate(lines) if line.startswith("附件 5"))
    start6 = next(i for i, line in enumerate(lines) if line.startswith("附件 6"))
    common = parse_annex4(lines[start4 + 5:start5])
    per_node = parse_annex5(lines[start5:start6])
    assert len(common) == 174, len(common)
    assert len(per_node) == 202, len(per_node)
    sides = {s: sum(1 for i in per_node if i["provider_side"] == s) for s in MARKS.values()}
    out = []
    for item in common:
        section = SECTION[item["level1"]]
        out.append({"code": f"qt-gx-{item['seq']:03d}", "seq": item["seq"], "section": section,
                    "category1": item["level1"], "category2": item["level2"], "name": item["name"],
                    "provider_side": item["provider_side"], "content": item["content"], "process": item["process"],
                    "units": item["units"], "frequency": item["frequency"], "target_users": item["target_users"],
                    "area": item["area"], "term": item["term"], "online_channel": item["online_channel"],
                    "offline_channel": item["offline_channel"], "contact": fictional_contact(item["seq"])})
    for n, item in enumerate(per_node, start=1):
        out.append({"code": f"qt-{item['short']}-{item['seq']:03d}", "seq": item["seq"], "node": item["node"],
                    "section": SECTION.get(item["level1"], ""), "category1": item["level1"], "category2": "",
                    "name": item["name"], "provider_side": item["provider_side"], "content": item["content"],
                    "process": "", "units": item["units"], "frequency": "", "target_users": "企业", "area": "",
                    "term": "long_term", "online_channel": "", "offline_channel": "",
                    "contact": fictional_contact(500 + n)})
    for entry in out:
        scrub(entry)
        for key in [k for k, v in entry.items() if v == "" and k not in ("code",)]:
            del entry[key]
    header = (
        "# Service catalog of qiantang (涉企服务事项清单), extracted from seed 003 by scripts/extract_catalog.py — do\n"
        "# not edit by hand without noting it here.\n"
        "# common (no `node`): 附件4 钱塘区政务服务改革企业共性服务清单, 174 items, codes qt-gx-NNN = the seed's 序号.\n"
        "# per node (`node`): 附件5 钱塘区六大产业平台服务清单, 202 items (the seed's own count: 政府侧 140、企业侧 30、\n"
        f"#   社会侧 32; extracted: government {sides['government']}, market {sides['market']}, "
        f"society {sides['society']}), one list per industry-platform station,\n"
        "#   codes qt-<platform>-NNN = the list's 序号. 附件5 has no process, frequency or channels; its 服务简介 is the\n"
        "#   content and its first clause the name; where a row names no unit, the station's lead platform is the unit.\n"
        "# 一级类别 → section: 审批服务 (附件4 137–174, 牵头单位 区行政审批局) → 项目服务板块; 科技服务 → 科创服务板块;\n"
        "#   法律服务 → 法治服务板块; 附件5's 产业链服务/安全生产服务/跨境电商制度创新服务 have no section.\n"
        "# Contacts are FICTIONAL (never the seed's names and numbers): 0571-0000NNNN cannot be dialled; the phone\n"
        "#   numbers inside the seed's texts are left out (the business hotline is written “8590”营商热线).\n"
        "# Provider side: ★ government, ▲ market (附件5: 企业侧), ● society.\n"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(header + yaml.safe_dump({"region": "qiantang", "items": out}, allow_unicode=True,
                                           sort_keys=False, width=100), encoding="utf-8")
    print(f"{len(common)} common, {len(per_node)} per node ({sides}) -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
