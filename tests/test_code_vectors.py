"""The norm's published vectors and hand-picked cases, with the exact defect each must report."""

from __future__ import annotations

import pytest
from tests.conftest import TODAY

from yzw.codes import check, check_identity_document, compose, detect_kinds

VALID = [
    ("id_number", "11010519491231002X"),
    ("uscc", "91350100M000100Y43"),
    ("license_id", "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0"),
    ("division", "330106"),
    ("division", "330113"),  # 临平区, 2021: python-stdnum's own birthplace lookup lacks it
    ("division", "330114"),  # 钱塘区, 2021
    ("datetime", "2026-11-28T09:30:00+08:00"),
    ("date", "2026-02-28"),
    ("certificate_type", "111"),
    ("applicant_kind", "6"),
    ("case_kind", "1"),
    ("base_code", "011234567000"),
]

INVALID = [
    ("id_number", "11010519491231002", "length", None),
    ("id_number", "11010519491231002x", "charset", 18),
    ("id_number", "110105194912310021", "check", 18),
    ("id_number", "999999194912310024", "division", 1),
    ("id_number", "110105194902300029", "birth_date", 7),
    ("uscc", "91350100M000100Y4I", "charset", 18),
    ("uscc", "91350100M000100Y44", "check", 18),
    ("division", "330103", "retired", None),  # 下城区, abolished 2021
    ("division", "110101", "outside_province", None),
    ("division", "339999", "unknown", None),
    ("division", "33010", "length", None),
    ("base_code", "991234567000", "item_type", 1),
    ("datetime", "2026-11-28T09:30:00Z", "offset", None),
    ("datetime", "2026-11-28T09:30:00.123+08:00", "fraction", None),
    ("datetime", "2026-11-28 09:30", "format", None),
    ("date", "2026-02-29", "date", None),
    ("certificate_type", "112", "unknown", None),
    ("applicant_kind", "1", "unknown", None),  # "1" is a natural person, not a legal-person kind
]


@pytest.mark.parametrize(("kind", "value"), VALID, ids=[f"{k}:{v[:24]}" for k, v in VALID])
def test_valid_value_passes(kind: str, value: str) -> None:
    assert check(kind, value) is None


@pytest.mark.parametrize(("kind", "value", "defect", "position"), INVALID, ids=[f"{k}:{d}" for k, _, d, _ in INVALID])
def test_invalid_value_reports_its_defect(kind: str, value: str, defect: str, position: int | None) -> None:
    problem = check(kind, value)
    assert problem is not None
    assert problem.defect == defect
    if position is not None:
        assert problem.position == position


def test_license_id_with_a_wrong_check_character_names_the_right_one() -> None:
    problem = check("license_id", "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.1")
    assert problem is not None
    assert (problem.defect, problem.expected) == ("check", "check character '0' (ISO/IEC 7064 MOD 37,36)")


def test_historical_division_is_fine_in_an_id_number_but_not_in_a_division_field() -> None:

    old_resident = compose.id_number("330103", TODAY.replace(year=1975), 17)  # 下城区, abolished 2021
    assert check("id_number", old_resident) is None
    assert check("division", "330103") is not None


def test_future_birth_date_is_rejected_against_the_given_today() -> None:

    born_tomorrow = compose.id_number("330106", TODAY.replace(day=29), 1)
    problem = check("id_number", born_tomorrow, today=TODAY)
    assert problem is not None
    assert problem.defect == "future_birth_date"


def test_application_no_channel_must_match_the_channel_field() -> None:

    number = compose.application_no("330106", "1", TODAY, 421)
    assert check("application_no", number, channel="web", today=TODAY) is None
    problem = check("application_no", number, channel="window", today=TODAY)
    assert problem is not None
    assert (problem.defect, problem.position) == ("channel_mismatch", 7)


def test_case_no_must_carry_the_registered_division_and_dept_seq() -> None:

    number = compose.case_no("330106", "021", TODAY, 17)
    assert len(number) == 24
    assert check("case_no", number, division_code="330106", dept_seq="021", today=TODAY) is None
    problem = check("case_no", number, division_code="330106", dept_seq="022", today=TODAY)
    assert problem is not None
    assert problem.defect == "dept_seq"


def test_only_type_111_documents_follow_gb_11643() -> None:
    assert check_identity_document("414", "E12345678") is None  # a passport number
    problem = check_identity_document("111", "E12345678")
    assert problem is not None
    assert problem.requirement == "CODE-01"
    bad_type = check_identity_document("101", "11010519491231002X")
    assert bad_type is not None
    assert bad_type.requirement == "CODE-09"


def test_failure_renders_in_the_house_format() -> None:
    problem = check("case_no", "33010602120261128000017")
    assert problem is not None
    assert problem.render("event SL of application 33010632026112800000170") == (
        "[CODE-06] case_no must be 24 characters, got 23\n"
        "Expected: 24 characters\n"
        "Received: '33010602120261128000017' (23 chars) in event SL of application 33010632026112800000170"
    )


def test_detection_prefers_the_kind_that_validates() -> None:
    assert detect_kinds("91350100M000100Y43")[0] == "uscc"
    assert detect_kinds("11010519491231002X")[0] == "id_number"
    assert detect_kinds("330106") == ["division"]
    assert detect_kinds("hello") == []
