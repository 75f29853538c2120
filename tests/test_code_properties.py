"""Property tests: generated codes validate, single substitutions are caught, defects are named."""

from __future__ import annotations

import datetime as dt
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_2, mod_37_36

from yzw.codes import check
from yzw.codes.checksums import LICENSE_ALPHABET, mod_11_2_check, mod_37_36_check, uscc_check
from yzw.codes.times import today_cn
from yzw.fixtures import DEFECTS, invalid_value, make_faker

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
GENERATED = [
    "id_number",
    "uscc",
    "division",
    "base_code",
    "item_code",
    "application_no",
    "case_no",
    "license_id",
    "datetime",
]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(seed=SEEDS, kind=st.sampled_from(GENERATED))
def test_every_generated_value_validates(seed: int, kind: str) -> None:
    fake = make_faker(seed)
    value = getattr(fake, {"division": "division_code", "datetime": "timestamp"}.get(kind, kind))()
    assert check(kind, value) is None, f"{kind} {value}: {check(kind, value)}"


@FAST
@given(seed=SEEDS, channel=st.sampled_from(["web", "app", "window", "terminal", "agent"]))
def test_generated_application_no_matches_its_channel(seed: int, channel: str) -> None:
    fake = make_faker(seed)
    number = fake.application_no(channel, dept_seq="021")
    assert check("application_no", number, channel=channel, dept_seq="021") is None


def _substitutions(value: str, alphabet: str) -> list[str]:
    return [value[:i] + c + value[i + 1 :] for i in range(len(value)) for c in alphabet if c != value[i]]


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, kind=st.sampled_from(["id_number", "application_no", "case_no"]))
def test_every_single_character_substitution_is_rejected(seed: int, kind: str) -> None:
    fake = make_faker(seed)
    value = getattr(fake, kind)()
    accepted = [v for v in _substitutions(value, string.digits + "X") if check(kind, v) is None]
    assert not accepted, f"{kind} {value}: substitutions accepted: {accepted[:3]}"


@FAST
@given(seed=SEEDS, pair=st.sampled_from([(k, d) for k, ds in DEFECTS.items() for d in ds]))
def test_every_invalid_variant_is_rejected_with_its_named_defect(seed: int, pair: tuple[str, str]) -> None:
    kind, defect = pair
    variant = invalid_value(make_faker(seed), kind, defect)
    problem = check(kind, variant.value, **variant.context)
    assert problem is not None, f"{kind} {variant.value} passed but has defect {defect}"
    assert problem.defect == defect, f"{kind} {variant.value}: expected {defect}, got {problem.defect}"


@settings(max_examples=500, deadline=None)
@given(digits=st.text(alphabet=string.digits, min_size=1, max_size=40))
def test_fast_mod_11_2_agrees_with_stdnum(digits: str) -> None:
    assert mod_11_2_check(digits) == mod_11_2.calc_check_digit(digits)


@settings(max_examples=500, deadline=None)
@given(body=st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_uscc_check_agrees_with_stdnum(body: str) -> None:
    assert uscc_check(body) == stdnum_uscc.calc_check_digit(body)


def test_same_seed_gives_the_same_data() -> None:
    first, second = make_faker(99), make_faker(99)
    assert [first.person(), first.case_no()] == [second.person(), second.case_no()]


@FAST
@given(seed=SEEDS, age=st.integers(min_value=0, max_value=100))
def test_person_has_the_chosen_division_and_age(seed: int, age: int) -> None:
    person = make_faker(seed).person("330106", age=age)
    number = person["id_number"]
    born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    today = today_cn()
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    assert (number[:6], years) == ("330106", age)
    assert check("id_number", number) is None


@FAST
@given(
    seed=SEEDS,
    kind=st.sampled_from(GENERATED),
    at=st.integers(min_value=0, max_value=40),
    other=st.sampled_from(["٠", "٣", "０", "５", "a", "z", "é", "中", "\x00", " "]),
)
def test_a_character_no_code_holds_is_a_problem_not_a_crash(seed: int, kind: str, at: int, other: str) -> None:
    """Other scripts' digits pass str.isdigit() and a Unicode \\d: every checker names them as a problem
    (a pushed event or an audited record with one got a 500 or a traceback)."""
    fake = make_faker(seed)
    value = getattr(fake, {"division": "division_code", "datetime": "timestamp"}.get(kind, kind))()
    at = min(at, len(value) - 1)
    for changed in (value[:at] + other + value[at + 1 :], value.lower()):
        if changed != value:
            assert check(kind, changed) is not None, f"{kind} {changed!r} taken"


@given(text=st.text(alphabet=LICENSE_ALPHABET + "a.-", max_size=60))
def test_the_mod_37_36_table_gives_stdnums_answer_or_its_error(text: str) -> None:
    """CODE-07's check character by the step table (the audit's speed) is stdnum's, error for error."""
    try:
        expected: str | type[Exception] = str(mod_37_36.calc_check_digit(text, LICENSE_ALPHABET))
    except Exception as error:
        expected = type(error)
    try:
        got: str | type[Exception] = mod_37_36_check(text)
    except Exception as error:
        got = type(error)
    assert got == expected
