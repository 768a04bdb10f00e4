"""One module per log format. Each exposes PARSER (see base.Parser) and SAMPLES (real lines with
the fields they must yield), which tests/test_parser_samples.py walks for every registered format."""

from __future__ import annotations

from logscan.parsers import (
    dotnet,
    exim,
    gosmtp,
    javamail,
    msmtp,
    nodemailer,
    phpmailer,
    postfix,
    rubysmtp,
    sendmail,
    smtplib,
    symfony,
)
from logscan.parsers.base import Parser, Sample

MODULES = (postfix, exim, sendmail, msmtp, smtplib, phpmailer, nodemailer, javamail, gosmtp, rubysmtp, symfony, dotnet)
REGISTRY: dict[str, Parser] = {m.PARSER.name: m.PARSER for m in MODULES}


def samples_of(name: str) -> tuple[Sample, ...]:
    for m in MODULES:
        if m.PARSER.name == name:
            return m.SAMPLES
    raise KeyError(name)


__all__ = ["MODULES", "REGISTRY", "Parser", "Sample", "samples_of"]
