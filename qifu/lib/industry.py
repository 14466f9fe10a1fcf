"""Industry codes of GB/T 4754-2017: a section letter, optionally followed by the division (2 digits),
group (3) or class (4) code, which must belong to that section (e.g. C, C27, C271, C2710)."""

from django.utils.translation import gettext as _

# Section letter → (first division, last division).
SECTIONS: dict[str, tuple[int, int, str]] = {
    "A": (1, 5, "农、林、牧、渔业"),
    "B": (6, 12, "采矿业"),
    "C": (13, 43, "制造业"),
    "D": (44, 46, "电力、热力、燃气及水生产和供应业"),
    "E": (47, 50, "建筑业"),
    "F": (51, 52, "批发和零售业"),
    "G": (53, 60, "交通运输、仓储和邮政业"),
    "H": (61, 62, "住宿和餐饮业"),
    "I": (63, 65, "信息传输、软件和信息技术服务业"),
    "J": (66, 69, "金融业"),
    "K": (70, 70, "房地产业"),
    "L": (71, 72, "租赁和商务服务业"),
    "M": (73, 75, "科学研究和技术服务业"),
    "N": (76, 79, "水利、环境和公共设施管理业"),
    "O": (80, 82, "居民服务、修理和其他服务业"),
    "P": (83, 83, "教育"),
    "Q": (84, 85, "卫生和社会工作"),
    "R": (86, 90, "文化、体育和娱乐业"),
    "S": (91, 96, "公共管理、社会保障和社会组织"),
    "T": (97, 97, "国际组织"),
}


def section_of_division(division: int) -> str | None:
    for letter, (low, high, _name) in SECTIONS.items():
        if low <= division <= high:
            return letter
    return None


def normalize(code: str) -> str:
    code = "".join(str(code or "").split()).upper()
    if code[:2].isdigit() and len(code) >= 2:
        letter = section_of_division(int(code[:2]))
        if letter:
            code = letter + code
    return code


def problem(code: str) -> str | None:
    code = "".join(str(code or "").split()).upper()
    if not code:
        return None
    letter, digits = code[0], code[1:]
    if letter not in SECTIONS:
        return _("'%(code)s' is not a GB/T 4754 industry code: it must start with a section letter A–T.") % {
            "code": code}
    if digits and (not digits.isdigit() or len(digits) not in (2, 3, 4)):
        return _("'%(code)s' is not a GB/T 4754 industry code: after the letter come 2, 3 or 4 digits.") % {
            "code": code}
    if digits:
        low, high, name = SECTIONS[letter]
        if not low <= int(digits[:2]) <= high:
            return _("Division %(div)s does not belong to section %(letter)s (%(name)s: divisions "
                     "%(low)02d–%(high)02d).") % {"div": digits[:2], "letter": letter, "name": name,
                                                  "low": low, "high": high}
    return None


def section_name(code: str) -> str:
    return SECTIONS.get((code or " ")[0].upper(), (0, 0, ""))[2]
