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

import regex

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


@cache
def cli_words(lang: str) -> dict[str, str]:
    """The CLI's own labels (`rules show`), from the [cli] table of the catalogue."""
    if lang == "en":
        return {}
    text = resources.files("logscan.reports").joinpath(f"messages_{lang}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text).get("cli", {})


# Why a file was not read (logscan/discover.py writes them in English), in Chinese: each English
# form with its variable parts captured (bounded, on text logscan itself wrote).
_REASONS_ZH = (
    (r"the pattern matched no file", "通配符没有匹配到任何文件"),
    (r"not a regular file or directory", "不是普通文件或目录"),
    (r"no such file or directory", "文件或目录不存在"),
    (r"(?P<a>\S{1,200}) repeats lines of (?P<b>\S{1,200}) in the same folder; name it explicitly to read it",
     "{a} 与同一目录中的 {b} 内容重复；如需读取请明确指定它"),
    (r"cannot read: (?P<a>.{0,500})", "无法读取：{a}"),
    (r"empty file", "空文件"),
    (r"binary or not text", "二进制文件或不是文本"),
    (r"not a recognised mail log format \(first line: (?P<a>.{0,300})\); use --format to force one",
     "不是可识别的邮件日志格式（第一行：{a}）；可用 --format 强制指定格式"),
)


def reason(text: str, lang: str) -> str:
    """A skip reason in `lang` (as written when no translation matches)."""
    if lang != "zh":
        return text
    for pattern, zh in _REASONS_ZH:
        m = regex.fullmatch(pattern, text, timeout=0.05)
        if m:
            return zh.format(**m.groupdict())
    return text


# SMTP stages: the commands stay as they are (they are the protocol's words); the others are words.
STAGES_ZH = {"connect": "连接", "greeting": "问候", "end of DATA": "DATA 结束后", "protocol": "协议", "DNS": "DNS"}
# Who was sending, when a server log names no client: the server itself, or an application's log.
CLIENT_LABELS = {"en": ("{source} on {host}", "{source} ({file})"), "zh": ("{host} 上的 {source}", "{source}（{file}）")}
