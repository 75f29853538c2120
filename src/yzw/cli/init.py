"""`yzw init`: a new vendor's registration record and catalogue, asked for one answer at a time.

Every answer is checked as it is typed (questions.py); a bad one is refused with its requirement and fix and
asked again. With `--non-interactive` the answers come from flags, and a missing or bad one is one line and
exit 2. The files are checked by the kit's own loader before they are written, so what `yzw init` writes is
what `yzw catalog check`, `yzw mock up` and `yzw run` accept.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape

from yzw.cli.output import err, out
from yzw.cli.questions import QUESTIONS, Answers, Question
from yzw.cli.skeleton import catalogue_text, item_code, record_text, relative
from yzw.errors import YzwError
from yzw.sut import Registration

QUESTION = {question.name: question for question in QUESTIONS}


def _flag(name: str) -> Any:
    """The option of one answer, its help the question itself."""
    question = QUESTION[name]
    default = " (default: a new random one)" if question.secret else ""
    return typer.Option(question.flag, help=question.text + default, show_default=False)


def init(
    sut: Annotated[Path, typer.Option(help="The registration record to write.")] = Path("sut.yaml"),
    catalog: Annotated[
        Path | None, typer.Option(help="The catalogue file to write (default: items.yaml beside --sut).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
    non_interactive: Annotated[
        bool, typer.Option("--non-interactive", help="Ask nothing: answers from the flags below, else defaults.")
    ] = False,
    dept_uscc: Annotated[str | None, _flag("dept_uscc")] = None,
    division_code: Annotated[str | None, _flag("division_code")] = None,
    dept_seq: Annotated[str | None, _flag("dept_seq")] = None,
    dept_name: Annotated[str | None, _flag("dept_name")] = None,
    tier: Annotated[str | None, _flag("tier")] = None,
    app_id: Annotated[str | None, _flag("app_id")] = None,
    app_secret: Annotated[str | None, _flag("app_secret")] = None,
    base_url: Annotated[str | None, _flag("base_url")] = None,
    sso_url: Annotated[str | None, _flag("sso_url")] = None,
    driver_url: Annotated[str | None, _flag("driver_url")] = None,
    formats: Annotated[str | None, _flag("formats")] = None,
    item_name: Annotated[str | None, _flag("item_name")] = None,
    base_code: Annotated[str | None, _flag("base_code")] = None,
) -> None:
    """Write a sut.yaml and a catalogue for your department, asking for each answer; prints what to run next.

    Each answer is checked as typed (CODE-02 USCC, CODE-03 division, dept_seq, URLs …) and asked again when
    wrong. An answer given as a flag (--dept-uscc, --dept-seq …) is not asked. `-` as the driver URL: none.

    Example: yzw init (in CI: yzw init --non-interactive and a flag per answer; see README)
    """
    catalogue = catalog or sut.parent / "items.yaml"
    _refuse_to_overwrite((sut, catalogue), force)
    flags = locals()
    given = {q.name: str(flags[q.name]).strip() for q in QUESTIONS if flags.get(q.name) is not None}
    answers = collect(given, interactive=not non_interactive)
    write(answers, sut, catalogue)
    _next_steps(sut, catalogue)


def collect(given: Answers, interactive: bool) -> Answers:
    """Every answer: from its flag (checked), else asked, else (non-interactive) its default."""
    answers: Answers = {}
    for question in QUESTIONS:
        if question.name in given:
            answers[question.name] = _taken(question, given[question.name], answers)
        elif interactive:
            answers[question.name] = ask(question, answers)
        else:
            default = question.default(answers)
            if default is None:
                raise YzwError(f"{question.flag} is missing: {question.text}; fix: give {question.flag} VALUE")
            answers[question.name] = _taken(question, default, answers)
    return answers


def _taken(question: Question, answer: str, answers: Answers) -> str:
    refused = question.refusal(answer, answers)
    if refused:
        raise YzwError(f"{question.flag}{'' if question.secret else f' {answer!r}'}: {refused}")
    return answer


def ask(question: Question, answers: Answers) -> str:
    """Ask until the answer is good; an empty answer takes the default shown in brackets."""
    default = question.default(answers)
    shown = "Enter: a new random one, unseen" if question.secret else default
    text = f"{question.text} [{shown}]" if shown else question.text
    while True:
        typed = typer.prompt(text, default="", show_default=False, hide_input=question.secret)
        answer = str(typed).strip() or default or ""
        refused = question.refusal(answer, answers)
        if refused is None:
            return answer
        err.print(f"[red]✗[/] {escape(refused)}")


def _refuse_to_overwrite(paths: tuple[Path, ...], force: bool) -> None:
    existing = [str(path) for path in paths if path.exists()]
    if existing and not force:
        what = f"{' and '.join(existing)} {'exists' if len(existing) == 1 else 'exist'}"
        raise YzwError(f"{what}, not overwritten; fix: give --force to overwrite, or --sut/--catalog for other files")


def write(answers: Answers, sut: Path, catalogue: Path) -> None:
    """Both files, checked first as the kit's loader checks them (schema, codes, one department)."""
    named = relative(catalogue, sut.parent)
    record, items = record_text(answers, named), catalogue_text(answers, sut.name)
    Registration.from_mapping({**yaml.safe_load(record), "catalog": yaml.safe_load(items)["items"]}, str(sut))
    for path, text in ((sut, record), (catalogue, items)):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise YzwError(f"cannot write {path}: {exc.strerror or exc}") from None
    out.print(f"✓ wrote {sut} (app_id {answers['app_id']}) and {catalogue}", markup=False)
    out.print(
        f"  1 item: {item_code(answers)} {answers['item_name']} — add the others your system handles", markup=False
    )


def _next_steps(sut: Path, catalogue: Path) -> None:
    s, c = shlex.quote(str(sut)), shlex.quote(str(catalogue))
    out.print("\nNext:", markup=False)
    for command, why in (
        (f"yzw catalog check {c} --sut {s}", "check the catalogue against the record"),
        (f"yzw mock up --sut {s} --catalog {c}", "start the platform; point your system at the URLs it prints"),
        (f"yzw run --sut {s}", "certify the system (in another terminal)"),
    ):
        out.print(f"  {command}    # {why}", markup=False)
