"""The report's own words in English and Simplified Chinese.

Templates write English (`_("Failures")`); reports/messages_zh.toml maps each English text to its
Chinese one. Category titles and remediation come from the knowledge base through
Category.text(name, lang). A text missing from the catalogue shows in English (and
tests/test_report_i18n.py fails, so none goes missing unnoticed).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

LANGS = ("en", "zh")
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


@cache
def catalogue(lang: str) -> dict[str, str]:
    if lang == "en":
        return {}
    text = resources.files("logscan.reports").joinpath(f"messages_{lang}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["messages"]


class Messages:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.html_lang = HTML_LANG[lang]
        self._table = catalogue(lang)

    def __call__(self, english: str, **values) -> str:
        text = self._table.get(english, english)
        return text.format(**values) if values else text
