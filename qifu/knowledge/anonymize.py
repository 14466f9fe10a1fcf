"""Anonymizing a solved appeal for the case library: who the enterprise is must not survive in the published text.

Replaced wherever they appear in a text: the enterprise's name and its short form (the name without the place in
front and the legal form behind, e.g. 杭州云帆星辰生物医药有限公司 → 云帆星辰生物医药), its credit code, the appeal's
contact name and phone, and the names and phones of the enterprise's users. Then every pattern that looks like a
credit code or an identity-card number (18 characters) and every phone number is masked, whoever it belongs to.
`leaks` tells what is still there — a case is refused while its text names the enterprise (the editor may have typed
it back)."""

import re

ENTERPRISE = "某企业"
CONTACT = "某联系人"
PHONE = "1**********"
CODE = "******************"

# 18 characters of a credit code (GB 32100: no I, O, Z, S, V) or of an identity-card number (17 digits and X).
USCC_PATTERN = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])")
ID_PATTERN = re.compile(r"(?<!\d)\d{17}[\dXx](?![0-9A-Za-z])")
# Mobile numbers (with an optional +86 and spaces or dashes) and fixed lines with their area code.
PHONE_PATTERN = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")

_PLACE = re.compile(r"^(?:中国|浙江省?|杭州市?|钱塘区?|萧山区?|湖州市?|吴兴区?|台州市?|[\u4e00-\u9fff]{2}[省市区县])+")
_FORM = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|集团有限公司|集团|公司|分公司|厂|合伙企业（有限合伙）|（有限合伙）)+$")


def short_name(name: str) -> str:
    """The name people use: without the place in front and the legal form behind (at least two characters)."""
    core = _FORM.sub("", _PLACE.sub("", (name or "").strip()))
    return core if len(core) >= 2 and core != name else ""


def secrets_of(appeal) -> tuple[list[tuple[str, str]], list[str]]:
    """(the strings to replace with what, longest first; the strings that must not remain)."""
    enterprise = appeal.enterprise
    pairs: list[tuple[str, str]] = []
    for value in (enterprise.name, short_name(enterprise.name)):
        pairs.append((value, ENTERPRISE))
    pairs.append((enterprise.uscc, CODE))
    pairs.append((appeal.contact_name, CONTACT))
    pairs.append((appeal.contact_phone, PHONE))
    for display_name, phone in enterprise.users.values_list("display_name", "phone"):
        pairs += [(display_name, CONTACT), (phone, PHONE)]
    pairs = [(value.strip(), by) for value, by in pairs if value and len(value.strip()) >= 2]
    pairs.sort(key=lambda vb: -len(vb[0]))
    return pairs, [value for value, _by in pairs]


def anonymize(text: str, appeal) -> str:
    pairs, _found = secrets_of(appeal)
    return mask(text, pairs)


def mask(text: str, pairs=()) -> str:
    out = text or ""
    for value, by in pairs:
        out = out.replace(value, by)
    out = USCC_PATTERN.sub(CODE, out)
    out = ID_PATTERN.sub(CODE, out)
    return PHONE_PATTERN.sub(PHONE, out)


def leaks(text: str, appeal) -> list[str]:
    """What in `text` still identifies the enterprise or a person: its names, codes and phones, any credit-code-like
    string, any phone number."""
    _pairs, secret = secrets_of(appeal)
    text = text or ""
    found = [value for value in secret if value in text]
    found += [m.group(0) for m in USCC_PATTERN.finditer(text) if m.group(0) != CODE]
    found += [m.group(0) for m in ID_PATTERN.finditer(text)]
    found += [m.group(0) for m in PHONE_PATTERN.finditer(text)]
    return list(dict.fromkeys(found))
