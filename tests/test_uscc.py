"""The unified social credit code check (GB 32100-2015 with the GB 11714 organization-code check),
the GB/T 4754-2017 industry-code check, and the `qifu uscc` command."""

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from qifu.lib import industry, uscc

QIFU = Path(sys.executable).parent / "qifu"


@pytest.fixture(autouse=True)
def english():
    """Assert on the English msgids whatever translations exist."""
    with translation.override("en"):
        yield


# --- an independent reference, typed from the standards, to cross-check the module ----------------

REF_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100 表2: no I, O, S, V, Z
REF_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]  # GB 32100 表3
REF_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714-1997


def ref_org_check(body: str) -> str:
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, REF_ORG_WEIGHTS))
    return "0123456789X0"[11 - total % 11]


def ref_check(first17: str) -> str:
    total = sum(REF_CHARSET.index(c) * w for c, w in zip(first17, REF_WEIGHTS))
    return REF_CHARSET[(31 - total % 31) % 31]


# Real, public codes, each checked by hand with the reference above before being listed here
# (e.g. 91350100M000100Y43: organization body M000100Y → 22·3 + 1·5 + 34·2 = 139, 139 mod 11 = 7,
# 11 − 7 = 4 ✓; weighted sum of the first 17 = 1640, 1640 mod 31 = 28, 31 − 28 = 3 ✓).
REAL_CODES = [
    "91350100M000100Y43",  # the example code of GB 32100-2015
    "91110000600037341L",
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
    "914403001922038216",  # 华为技术有限公司
    "91330100799655058B",  # 阿里巴巴（中国）网络技术有限公司
]

GOOD = "91350100M000100Y43"


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert ref_org_check(code[8:16]) == code[16]
    assert ref_check(code[:17]) == code[17]
    assert uscc.problem(code) is None
    assert uscc.is_valid(code)


@pytest.mark.parametrize("kind,division,body", [
    ("91", "110000", "MA01ABCD"),  # enterprise, Beijing, new-style organization code
    ("92", "320500", "L1234567"),  # individual business
    ("93", "440300", "12345678"),  # farmers' co-operative
    ("11", "100000", "00001234"),  # government organ
    ("12", "330106", "47000123"),  # public institution
    ("51", "310000", "50000123"),  # social organization
    ("52", "310000", "MJ000123"),  # private non-enterprise unit
    ("31", "110105", "E0000001"),  # law firm
    ("N2", "360722", "C1234567"),  # village collective economic organization
    ("A1", "100000", "00000001"),
    ("Y1", "650100", "00000001"),
])
def test_made_codes_are_valid_and_match_the_reference(kind, division, body):
    code = uscc.make(kind, division, body)
    assert len(code) == 18
    assert code[16] == ref_org_check(body)
    assert code[17] == ref_check(code[:17])
    assert uscc.problem(code) is None


def test_make_agrees_with_the_reference_on_many_random_codes():
    rng = random.Random(4754)
    for _ in range(2000):
        body = "".join(rng.choice(REF_CHARSET) for _ in range(8))
        division = "".join(rng.choice("0123456789") for _ in range(6))
        code = uscc.make("91", division, body)
        assert code[16:] == ref_org_check(body) + ref_check(code[:17])
        assert uscc.problem(code) is None


def test_org_check_digit_ten_is_x_and_eleven_is_zero():
    # 00000030: 3·4 = 12, 12 mod 11 = 1, 11 − 1 = 10 → X
    assert uscc.org_check_digit("00000030") == "X"
    # 00000000: sum 0, 11 − 0 = 11 → 0
    assert uscc.org_check_digit("00000000") == "0"
    assert uscc.problem("9111000000000030X9") is None
    assert uscc.problem("91110000000000000E") is None


def test_check_character_zero():
    # weighted sum divisible by 31 → check character '0'
    for code in ("91320500MA00002850", "9132050000000276X0"):
        assert ref_check(code[:17]) == "0"
        assert uscc.problem(code) is None


@pytest.mark.parametrize("typed", [
    "91350100m000100y43",
    " 91350100M000100Y43 ",
    "9135 0100 M000 100Y 43",
    "9135\t0100M000100Y43\n",
    "9135\u30000100M000100Y43",  # ideographic space
])
def test_lower_case_and_spaces_are_normalized(typed):
    assert uscc.problem(typed) is None
    assert uscc.normalize(typed) == GOOD


def test_normalize_handles_none():
    assert uscc.normalize(None) == ""


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_empty(empty):
    assert "empty" in uscc.problem(empty)


@pytest.mark.parametrize("code,n", [(GOOD[:17], 17), (GOOD + "1", 19), ("9135", 4)])
def test_wrong_length(code, n):
    message = uscc.problem(code)
    assert "18 characters" in message
    assert f"has {n}" in message


@pytest.mark.parametrize("pos,char", [
    (9, "I"), (10, "O"), (11, "S"), (12, "V"), (13, "Z"), (5, "-"), (18, "."), (1, "＃"), (9, "Ｍ"),
])
def test_forbidden_characters(pos, char):
    code = GOOD[: pos - 1] + char + GOOD[pos:]
    message = uscc.problem(code)
    assert f"Character {pos} ('{char}')" in message
    assert "not allowed" in message
    assert "I, O, S, V and Z" in message


@pytest.mark.parametrize("char", ["0", "B", "X"])
def test_unknown_registration_authority(char):
    message = uscc.problem(char + GOOD[1:])
    assert "registration authority" in message
    assert f"'{char}'" in message


@pytest.mark.parametrize("kind", ["94", "99", "15", "2A", "Y9", "N4", "A2"])
def test_organization_type_not_allowed_for_the_authority(kind):
    message = uscc.problem(kind + GOOD[2:])
    assert "organization type" in message
    assert f"registration authority {kind[0]}" in message
    assert f"'{kind[1]}'" in message
    # the message lists the allowed types
    assert " ".join(uscc.AUTHORITIES[kind[0]][1]) in message


def test_non_digit_administrative_division():
    message = uscc.problem("9135A100M000100Y43")
    assert "administrative division" in message
    assert "35A100" in message


def test_bad_organization_code_check_digit():
    message = uscc.problem("91350100M000100Y53")
    assert "GB 11714" in message
    assert "M000100Y5" in message
    assert "should be '4', not '5'" in message


def test_bad_organization_code_check_digit_x_and_zero():
    message = uscc.problem("91110000000000307" + ref_check("91110000000000307"))
    assert "GB 11714" in message and "should be 'X', not '7'" in message
    message = uscc.problem("91110000000000001" + ref_check("91110000000000001"))
    assert "GB 11714" in message and "should be '0', not '1'" in message
    # a letter other than X where the digit belongs
    message = uscc.problem("9111000000000030A9")
    assert "should be 'X', not 'A'" in message


def test_bad_final_check_character():
    message = uscc.problem("91350100M000100Y44")
    assert "check character (character 18)" in message
    assert "should be '3', not '4'" in message


def test_bad_final_check_character_when_it_should_be_zero():
    message = uscc.problem("91320500MA00002851")
    assert "check character (character 18)" in message
    assert "should be '0', not '1'" in message


@pytest.mark.parametrize("code", REAL_CODES + ["91320500MA00002850", "9111000000000030X9"])
def test_every_single_character_typo_is_caught(code):
    for i, original in enumerate(code):
        for char in REF_CHARSET:
            if char != original:
                typo = code[:i] + char + code[i + 1:]
                assert uscc.problem(typo) is not None, typo


def test_typos_in_the_digits_are_reported_by_a_check():
    for i in range(2, 16):
        char = "7" if GOOD[i] != "7" else "8"
        message = uscc.problem(GOOD[:i] + char + GOOD[i + 1:])
        assert "GB 11714" in message or "check character" in message


@pytest.mark.parametrize("code", REAL_CODES + ["91320500MA00002850", "9111000000000030X9"])
def test_every_adjacent_transposition_is_caught(code):
    for i in range(17):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
            assert uscc.problem(swapped) is not None, swapped


def test_transposition_message():
    # 91350100M000100Y43 → 91350100M000100Y34: the organization check catches it
    assert "GB 11714" in uscc.problem("91350100M000100Y34")
    # 91110108551385082Q → 91110108551358082Q: digits 13/14 swapped
    assert uscc.problem("91110108551358082Q") is not None


# --- industry codes -----------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["C", "C27", "C271", "C2710", "I65", "c2710", " A0111 ", "S96", "T97", "T", ""])
def test_valid_industry_codes(code):
    assert industry.problem(code) is None


@pytest.mark.parametrize("code,words", [
    ("X12", "section letter"),
    ("C99", "Division 99 does not belong to section C"),
    ("C2", "2, 3 or 4 digits"),
    ("CABC", "2, 3 or 4 digits"),
    ("C27101", "2, 3 or 4 digits"),
    ("2710", "section letter"),
    ("A06", "Division 06 does not belong to section A"),
    ("S97", "Division 97 does not belong to section S"),
    ("T98", "Division 98 does not belong to section T"),
])
def test_invalid_industry_codes(code, words):
    assert words in industry.problem(code)


def test_industry_normalize_adds_the_section_letter():
    assert industry.normalize("2710") == "C2710"
    assert industry.normalize("65") == "I65"
    assert industry.normalize("97") == "T97"
    assert industry.normalize(" c27 ") == "C27"
    assert industry.normalize("1A") == "1A"  # no crash on a malformed code
    assert industry.section_name("C2710") == "制造业"


def test_every_division_belongs_to_exactly_one_section():
    for division in range(1, 98):
        assert industry.section_of_division(division) is not None, division
    assert industry.section_of_division(0) is None
    assert industry.section_of_division(98) is None


# --- the `qifu uscc` command ----------------------------------------------------------------------

def run_uscc(tmp_path, *codes):
    env = {**os.environ, "QIFU_DATA_DIR": str(tmp_path), "PYTHONIOENCODING": "utf-8", "LANG": "C.UTF-8"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([str(QIFU), "uscc", *codes], capture_output=True, text=True, encoding="utf-8",
                          env=env, timeout=60)


def expected_line(code: str) -> str:
    """The command's line for `code` in the deployment's language (the command does not follow the
    test's language)."""
    with translation.override(settings.LANGUAGE_CODE):
        problem = uscc.problem(code)
        if problem:
            return f"{code}: invalid — {problem}"
        return f"{code}: valid"


def test_command_all_valid(tmp_path):
    result = run_uscc(tmp_path, GOOD, "91110000600037341l")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [expected_line(GOOD), expected_line("91110000600037341l")]
    assert result.stderr == ""
    # no database is needed (none is created in the empty data directory)
    assert not (tmp_path / "qifu.sqlite3").exists()


def test_command_some_invalid(tmp_path):
    codes = [GOOD, "91350100M000100Y44", "123"]
    result = run_uscc(tmp_path, *codes)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [expected_line(code) for code in codes]
    assert " — " in result.stdout.splitlines()[1]
    assert not (tmp_path / "qifu.sqlite3").exists()


def test_command_single_invalid(tmp_path):
    result = run_uscc(tmp_path, "I1350100M000100Y43")
    assert result.returncode == 1
    assert result.stdout == expected_line("I1350100M000100Y43") + "\n"


def test_command_without_codes_is_a_usage_error(tmp_path):
    result = run_uscc(tmp_path)
    assert result.returncode == 2
    assert "code" in result.stderr.lower()
