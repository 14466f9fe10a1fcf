"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters: registration authority (1) + organization type (1) + administrative division (6)
+ organization code (9, GB 11714-1997 with its own check digit) + check character (1).
`problem(code)` says in plain words what is wrong, or returns None for a valid code.
"""

from django.utils.translation import gettext as _

# GB 32100-2015 character set: digits and capitals except I, O, S, V, Z.
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28

# Registration authority → allowed organization-type codes (GB 32100-2015 表1).
AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "1239"),
    "2": ("外交", "19"),
    "3": ("司法行政", "123459"),
    "4": ("文化", "19"),
    "5": ("民政", "1239"),
    "6": ("旅游", "129"),
    "7": ("宗教", "129"),
    "8": ("工会", "19"),
    "9": ("工商/市场监管", "123"),
    "A": ("中央军委改革和编制办公室", "19"),
    "N": ("农业", "1239"),
    "Y": ("其他", "1"),
}

# GB 11714-1997 organization code: weights of the 8 body characters; value of A–Z is 10–35.
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def normalize(code: str) -> str:
    """Upper-case and strip spaces (codes are often typed in lower case or with spaces)."""
    return "".join(str(code or "").split()).upper()


def check_character(first17: str) -> str:
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def _org_value(c: str) -> int:
    return int(c) if c.isdigit() else ord(c) - ord("A") + 10


def org_check_digit(body8: str) -> str:
    remainder = 11 - sum(_org_value(c) * w for c, w in zip(body8, ORG_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def problem(code: str) -> str | None:
    """None if `code` is a valid USCC, else a message that says what is wrong."""
    raw = code
    code = normalize(code)
    if not code:
        return _("The unified social credit code is empty.")
    if len(code) != 18:
        return _("A unified social credit code has 18 characters; %(code)s has %(n)d.") % {
            "code": raw, "n": len(code)}
    bad = [(i + 1, c) for i, c in enumerate(code) if c not in CHARSET]
    if bad:
        pos, char = bad[0]
        return _("Character %(pos)d ('%(char)s') is not allowed: codes use digits and capital letters "
                 "except I, O, S, V and Z.") % {"pos": pos, "char": char}
    authority, org_type = code[0], code[1]
    if authority not in AUTHORITIES:
        return _("Character 1 ('%(char)s') is not a registration authority code (allowed: %(allowed)s).") % {
            "char": authority, "allowed": " ".join(AUTHORITIES)}
    name, types = AUTHORITIES[authority]
    if org_type not in types:
        return _("Character 2 ('%(char)s') is not an organization type of registration authority "
                 "%(auth)s (%(name)s); allowed: %(allowed)s.") % {
            "char": org_type, "auth": authority, "name": name, "allowed": " ".join(types)}
    division = code[2:8]
    if not division.isdigit():
        return _("Characters 3–8 ('%(division)s') must be a 6-digit administrative division code.") % {
            "division": division}
    body, org_check = code[8:16], code[16]
    expected_org = org_check_digit(body)
    if org_check != expected_org:
        return _("The organization code %(org)s (characters 9–17) fails its GB 11714 check: "
                 "character 17 should be '%(expected)s', not '%(actual)s'.") % {
            "org": code[8:17], "expected": expected_org, "actual": org_check}
    expected = check_character(code[:17])
    if code[17] != expected:
        return _("The check character (character 18) should be '%(expected)s', not '%(actual)s'.") % {
            "expected": expected, "actual": code[17]}
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def make(authority_and_type: str, division: str, org_body: str) -> str:
    """Build a valid code from its parts (the demo data and tests use this)."""
    first16 = authority_and_type + division + org_body
    first17 = first16 + org_check_digit(org_body)
    return first17 + check_character(first17)
