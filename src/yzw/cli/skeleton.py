"""The files `yzw init` writes: an annotated sut.yaml and the department's catalogue with one item.

Each member carries a comment saying what it is and which requirement it serves. Scalars are written as JSON
strings (valid YAML), so a name or code never changes type on the way back in.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from yzw import __version__
from yzw.cli.questions import NONE, Answers, exercise_level, formats


def _q(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def item_code(answers: Answers) -> str:
    """CODE-04: the department's USCC (18) + the exercise level of its tier (1) + the base code (12)."""
    return answers["dept_uscc"] + exercise_level(answers["tier"]) + answers["base_code"]


def relative(path: Path, start: Path) -> str:
    """`path` as the record names it: relative to the record's folder."""
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def record_text(answers: Answers, catalogue: str) -> str:
    """The annotated registration record (norm §1, specs/schemas/sut.schema.json)."""
    a = {name: _q(value) for name, value in answers.items()}
    driver = answers["driver_url"]
    lines = [
        f"# Registration record (接入登记, norm §1) of a system of {answers['dept_name']}, written by `yzw init`",
        f"# (yzw-conform {__version__}). Check it: yzw spec validate FILE (specs/schemas/sut.schema.json).",
        "",
        "# The system's name at the platform and the shared secret it signs every call with (SIG-01; at least",
        "# 32 characters). Keep the secret out of version control.",
        f"app_id: {a['app_id']}",
        f"app_secret: {a['app_secret']}",
        "# Its tier and division (CODE-03, a current Zhejiang code): its events go to the exchange of this tier.",
        f"tier: {a['tier']}",
        f"division_code: {a['division_code']}",
        "# The department: its unified social credit code (CODE-02; every item_code opens with it, CODE-04) and",
        "# its 3-digit number in the division, which opens every case_no it assigns (CODE-06) and every window",
        "# application_no it issues (CODE-05).",
        f"dept_uscc: {a['dept_uscc']}    # {answers['dept_name']}",
        f"dept_seq: {a['dept_seq']}",
        "# Where the platform reaches it (REG-01: GET {base_url}/yzw/v1/health), and the browser hand-off of",
        "# single sign-on (SSO-01).",
        f"base_url: {a['base_url']}",
        f"sso_url: {a['sso_url']}",
        "# The items (implementation codes, CODE-04) it handles: each one is in the catalogue below.",
        "items:",
        f"  - {_q(item_code(answers))}    # {answers['item_name']}",
        "# The department's own catalogue (CAT-01), relative to this file; `yzw catalog check` checks it.",
        f"catalog: {_q(catalogue)}",
        "# Message formats it accepts and sends: json always, xml optionally (MSG-01).",
        f"formats: {_q(formats(answers['formats']))}",
    ]
    if driver == NONE:
        lines += ["# No conformance driver (norm §11): `yzw run` asks an operator to act at the window."]
    else:
        lines += [
            "# The conformance driver (norm §11), so that checks run without a person at the window.",
            "driver:",
            f"  url: {a['driver_url']}",
        ]
    return "\n".join(lines) + "\n" + _PLATFORM_NOTE


_PLATFORM_NOTE = """\
# What the platform gives the system (platform_app_id, platform_secret, platform.province, platform.exchange)
# is printed by `yzw mock up` when it registers this record; write it here to let `yzw run` start the
# platform itself, or against a staging platform.
"""


def catalogue_text(answers: Answers, record: str) -> str:
    """The department's catalogue (CAT-01) with one item to start from, each member explained."""
    code = item_code(answers)
    dept, seq, name = _q(answers["dept_name"]), _q(answers["dept_seq"]), _q(answers["item_name"])
    return f"""\
# The catalogue of {answers["dept_name"]} (CAT-01), written by `yzw init` (yzw-conform {__version__}).
# One item to start from: correct its numbers and materials, add every item the system handles (the shape of
# specs/schemas/item.schema.json; mocks/catalog.yaml holds examples) and list each item_code in {record}.
# Check it: yzw catalog check FILE --sut {record}
items:
- item_code: {_q(code)}    # CODE-04: USCC (18) + exercise level of the tier (1) + base_code (12)
  base_code: {_q(answers["base_code"])}    # CODE-04: item type (2) + main item (7) + sub-item (3)
  name: {name}
  type: {_q(answers["base_code"][:2])}    # CODE-04 事项类型: the first two digits of base_code
  dept:    # the implementing department: the record's dept_uscc and dept_seq
    name: {dept}
    uscc: {_q(answers["dept_uscc"])}
    dept_seq: {seq}
  division_code: {_q(answers["division_code"])}
  legal_days: 20    # 法定时限 in working days
  promised_days: 5    # 承诺时限: at most legal_days; ACC-04 counts the due time from acceptance
  required_auth_level: 2    # the identity level an applicant needs (1-4; SSO-05)
  max_visits: 0    # 跑动次数: 0, 1 or 2
  online_depth: 4    # 网办深度: 1-4
  case_kind: "2"    # 1 即办件 (promised_days 0), 2 承诺件
  materials:    # what an applicant hands in; required files are what 一次性告知 lists (ACC-05)
  - material_code: "M01"
    name: "申请书"
    required: true
  - material_code: "M02"
    name: "申请人身份证明"
    required: true
  # A material the e-license library holds carries its license_type (APP-05, LIC-02), e.g.
  # - {{material_code: "M03", name: "营业执照", required: true, license_type: "11100000000013338W001"}}
  # An item that results in an e-license names it (LIC-01):
  # license_type: "…"    # CODE-07 证照类型代码
  # license_name: "…"
  version: 1
  status: active
"""
