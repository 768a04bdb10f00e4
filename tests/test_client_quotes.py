"""tools/agreement/client_quotes.py: the scorer of client errors quoted in public threads. The
quote set itself is kept outside the repository; these tests use a small set written here."""

from __future__ import annotations

import json

import pytest

from conftest import agreement_tool


def _tool():
    return agreement_tool("client_quotes")


def _write(tmp_path, rows):
    path = tmp_path / "quotes.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


ROWS = [
    {"text": "Error: connect ECONNREFUSED 127.0.0.1:587", "library": "nodemailer", "source": "nodemailer",
     "error_code": "ESOCKET", "url": "https://example.org/t/1", "cause": None, "category": "connection_refused"},
    {"text": "smtplib.SMTPServerDisconnected: Connection unexpectedly closed", "library": "smtplib",
     "source": "smtplib", "url": "https://example.org/t/2", "cause": "x", "category": ["connection_lost", "unknown"]},
    {"text": "SMTP Error: Could not authenticate.", "library": "phpmailer", "source": "phpmailer",
     "url": "https://example.org/t/3", "category": "recipient_unknown"},  # a deliberate miss
]


def test_split_is_by_thread_and_stable():
    tool = _tool()
    parts = {tool.part_of(f"https://example.org/t/{i}") for i in range(40)}
    assert parts == {"learn", "score"}
    assert tool.part_of("https://example.org/t/7") == tool.part_of("https://example.org/t/7")


def test_scores_agreement_unknown_and_confusion(tmp_path):
    tool = _tool()
    quotes = tool.measure(tool.load(_write(tmp_path, ROWS), "all"))
    assert [q.right for q in quotes] == [True, True, False]
    assert quotes[2].got == "auth_failed"
    out = tool.report(quotes, listing=True)
    assert "agreement: 2/3 = 66.7%" in out
    assert "recipient_unknown -> auth_failed" in out
    assert "line 3 [phpmailer]" in out


def test_parts_partition_the_set(tmp_path):
    tool = _tool()
    path = _write(tmp_path, ROWS)
    learn, score = tool.load(path, "learn"), tool.load(path, "score")
    assert len(learn) + len(score) == len(ROWS)


def test_bad_lines_are_reported_with_their_number(tmp_path):
    tool = _tool()
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="bad.jsonl:2: not JSON"):
        tool.load(path, "all")
    path.write_text(json.dumps({"text": "x", "library": "y"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="lacks url, category"):
        tool.load(path, "all")


def test_missing_file_is_a_usage_error(tmp_path, capsys):
    assert _tool().main([str(tmp_path / "none.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
