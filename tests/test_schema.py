from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from logscan import schema


def test_schema_builds_and_is_documented():
    s = schema.arrow_schema()
    assert s.names == list(schema.FIELD_NAMES)
    assert pa.types.is_dictionary(s.field("category").type)
    doc = schema.docs_table()
    for name in schema.FIELD_NAMES:
        assert f"| `{name}` |" in doc


def test_every_field_is_used_by_code():
    """A field nobody fills or reads is dead weight (PUDL's rule)."""
    root = Path(__file__).resolve().parents[1]
    code = "".join(p.read_text() for d in ("logscan", "parsers", "reports") for p in (root / d).rglob("*.py")
                   if p.name != "schema.py")
    code += "".join(p.read_text() for p in (root / "reports").rglob("*.j2"))
    for name in schema.FIELD_NAMES:
        assert re.search(rf"""["'.]{name}["'\b]|row\["{name}"\]|\b{name}\b""", code), name


def test_docs_file_is_current():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "failure-table.md").read_text()
    assert schema.docs_table() in doc, "regenerate docs/failure-table.md with `logscan schema`"
