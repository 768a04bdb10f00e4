"""--lang zh: every text the report writes has its Simplified Chinese entry, and a Chinese report
carries none of the English sentences."""

from __future__ import annotations

import re

from reportdata import failures_on, files_covering

from logscan import schema
from logscan.engine import load_categories
from logscan.reports.build import ReportOptions, build_reports
from logscan.reports.chart import FAMILY_NAMES
from logscan.reports.i18n import catalogue
from logscan.reports.outcomes import SECTIONS
from logscan.reports.periods import KINDS

from conftest import REPO

TEMPLATES = REPO / "reports" / "templates"
# Texts the code passes through _() as values rather than literals.
DYNAMIC = set(KINDS) | set(schema.EVENTS) | set(schema.DIRECTIONS) | {"other", "Mail delivery failures"} | {
    f"{s} (failed attempts)" for s in SECTIONS} | set(FAMILY_NAMES.values())


def template_texts() -> set[str]:
    found = set()
    for path in TEMPLATES.glob("*.j2"):
        found |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', path.read_text()))
    return found


def test_catalogue_is_complete_and_has_no_leftovers():
    zh = catalogue("zh")
    used = template_texts() | DYNAMIC
    assert sorted(used - zh.keys()) == []
    assert sorted(zh.keys() - used) == []
    for english, chinese in zh.items():  # placeholders survive translation
        assert set(re.findall(r"\{\w+\}", english)) == set(re.findall(r"\{\w+\}", chinese)), english


def test_chinese_report_has_no_english_sentences(tmp_path):
    days = {"2026-11-02": ["rate_limited", "blocklisted", "auth_failed"], "2026-11-03": ["rate_limited"]}
    build_reports(failures_on(days), files_covering("2026-11-02", "2026-11-03"), [], tmp_path,
                  ReportOptions(period="day", lang="zh"), load_categories())
    sentences = [t for t in template_texts() if len(t.split()) >= 3 and "{" not in t]
    for page in [tmp_path / "index.html", tmp_path / "2026-11-02" / "index.html", tmp_path / "2026-11-03" / "index.html"]:
        html = page.read_text()
        assert '<html lang="zh-Hans">' in html
        leftovers = [s for s in sentences if s.replace("'", "&#39;").replace('"', "&#34;") in html]
        assert leftovers == [], page
        assert "邮件投递失败报告" in html
    day = (tmp_path / "2026-11-02" / "index.html").read_text()
    assert "优先修复" in day and "四大主要原因" in day
    cats = load_categories()
    # Category titles and remediation come from Category.text(name, "zh") (English where untranslated).
    assert cats["rate_limited"].text("title", "zh") in day
    from logscan.reports.remedies import variant

    assert variant(cats["rate_limited"], "postfix", "zh")[0].split("`")[0] in day


def test_skip_reasons_stages_client_labels_and_rules_show_in_chinese(tmp_path):
    from typer.testing import CliRunner

    from logscan.cli import app
    from logscan.reports.i18n import reason

    assert reason("empty file", "zh") == "空文件" and reason("empty file", "en") == "empty file"
    assert reason("mail.warn repeats lines of mail.log in the same folder; name it explicitly to read it", "zh") == \
        "mail.warn 与同一目录中的 mail.log 内容重复；如需读取请明确指定它"
    assert reason("not a recognised mail log format (first line: 'x'); use --format to force one", "zh").startswith(
        "不是可识别的邮件日志格式")
    r = CliRunner().invoke(app, ["report", str(REPO / "sample_logs"), "--out", str(tmp_path), "--lang", "zh", "--quiet"])
    assert r.exit_code == 0, r.output
    page = (tmp_path / "index.html").read_text()
    assert " on mx1" not in page and "上的 postfix" in page  # client labels
    assert "<td data-label=\"阶段\">connect</td>" not in page and "连接</td>" in page  # SMTP stages
    shown = CliRunner().invoke(app, ["rules", "show", "AUT001", "--lang", "zh"]).output
    for english in ("category:", "tier:", "references:", "examples that match:", "what to do:"):
        assert english not in shown
    assert "类别:" in shown and "参考资料:" in shown
