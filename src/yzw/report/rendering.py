"""Certificates for people: HTML from a template, and PDF printed from that HTML by Debian's Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import jinja2

from yzw.content import content_path
from yzw.errors import YzwError

PRINT_SECONDS = 120


def certificate_html(certificate: dict[str, Any]) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(content_path("reports", "templates")), autoescape=True
    )
    return environment.get_template("certificate.html.j2").render(cert=certificate)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def print_pdf(html: Path, pdf: Path) -> None:
    """Print `html` to `pdf` with headless Chromium: local fonts only, no header or footer."""
    browser = chromium()
    if browser is None:
        raise YzwError("--pdf prints the certificate with Chromium, which is not installed (apt install chromium)")
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        html.resolve().as_uri(),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise YzwError(f"Chromium did not print {pdf} within {PRINT_SECONDS} s") from None
    if done.returncode != 0 or not pdf.is_file():
        raise YzwError(f"Chromium could not print {pdf}: {done.stderr.strip()[-300:]}")
