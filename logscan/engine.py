"""The rule engine: tags each failure with a root-cause category, the rule and its evidence.

Rules are data (logscan/knowledge/rules/*.toml, plus user files given with --rules, which come
first; the phrase vocabulary is logscan/knowledge/vocabulary.toml). Precedence, the one place it
is written down (README's Rules paragraph points here):

  1. user rules (--rules files)
  2. provider rules (providers.toml, and OTH001: an expired message stays `expired`)
  3. text rules (core.toml, exim.toml, clients.toml): a pattern the software or provider writes
  4. the vocabulary (vocabulary.toml): weighted phrases per category in many languages, for a
     wording no rule has; rule_id `VOC:<category>`, evidence names every phrase it matched
  5. fallbacks: a text that says only that delivery gave up (OTH003, "retry timeout exceeded":
     below every cause, the vocabulary's too), the RFC 3463 / 4954 / 5248 / 7372 / 7505 / 8617 /
     8689 enhanced code, the programs' own codes (Exim's defer code, msmtp's EX_*, Nodemailer's
     code, in error_code) and the row's event
  6. the SMTP stage (a bare 550 to RCPT TO is an unusable mailbox, to MAIL FROM a refused sender)
  7. `unknown`, with the evidence of why (no rule matched; a vocabulary tie names both sides)

Within a tier, higher priority first, then id; the first rule whose conditions all hold decides.
The other signals of a row are conditions, not tiers: `direction` (a reply we got, our own
refusal, a local delivery) and `smtp_stage` narrow which rules and which vocabulary categories
may apply (recipient phrases do not count before RCPT TO, remote-server faults only in replies we
got); `relay_host` lets a provider rule hold only for that provider's servers (SendGrid's
"Unauthenticated senders not allowed" is its own reading of a generic text), and since provider
rules come first, the provider's reading wins over the generic one; `error_code`
(the client's or the MTA's own code) is read by status-tier rules, after the words: a reply that
names its cause outranks a generic code, and the code still answers when the words say nothing.
Regexes use the `regex` module with a per-match timeout, so a hostile line cannot stall a run;
the vocabulary is one alternation of literals, shaped as a trie and compiled once (with `re`: no
repetition in it, so no timeout is needed), so its cost is linear in the text (under 1 ms for 500
characters here, once per distinct problem that no rule knows).

The engine classifies each distinct (event, direction, source, code, status, stage, relay,
signature) once and joins the result back: its cost follows the number of distinct problems.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import regex

from .errors import RuleError
from .signature import signature_of, signatures_of

if TYPE_CHECKING:  # pyarrow is imported by classify_table: `logscan classify "text"` never loads it
    import pyarrow as pa

TIERS = ("user", "provider", "text", "status")  # the vocabulary sits between "text" and "status"
REGEX_TIMEOUT = 0.05  # seconds per search; a timed-out search counts as no match
KEY_FIELDS = ("event", "direction", "source", "smtp_code", "enhanced_status", "smtp_stage", "relay_host", "error_code",
              "relay_port", "tls_mode", "signature")


# How the parsers join an expired message's last deferral to its diagnostic (parsers/postfix.py, exim.py).
LAST_DEFERRAL = "last deferral: "

LANGUAGES = ("en", "zh")  # English, Simplified Chinese


@dataclass(frozen=True)
class Category:
    """A root cause. Texts in another language sit beside the English ones in categories.toml
    (`title_zh`, `description_zh`, `remediation_zh`); a missing translation falls back to English."""

    id: str
    family: str
    title: str
    description: str
    remediation: tuple[str, ...]
    translations: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, hash=False)

    def text(self, name: str, lang: str = "en") -> Any:
        """`name` is "title", "description" or "remediation", in `lang` where translated."""
        return self.translations.get(lang, {}).get(name) or getattr(self, name)


@dataclass
class Rule:
    id: str
    category: str
    title: str
    tier: str = "text"
    priority: int = 50
    diagnostic: regex.Pattern | None = None
    not_diagnostic: regex.Pattern | None = None
    enhanced_status: tuple[str, ...] = ()
    smtp_code: tuple[int, ...] = ()
    event: tuple[str, ...] = ()
    direction: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    stage: tuple[str, ...] = ()
    error_code: tuple[str, ...] = ()
    relay_host: regex.Pattern | None = None
    relay_port: tuple[int, ...] = ()
    tls_mode: tuple[str, ...] = ()  # what the client tried; "" stands for "the log does not say"
    references: tuple[str, ...] = ()
    examples_match: tuple[dict[str, Any], ...] = ()
    examples_no_match: tuple[dict[str, Any], ...] = ()
    origin: str = ""

    def matches(self, rec: dict[str, Any]) -> str | None:
        """The evidence (what matched) if this rule applies to the record, else None."""
        evidence = []
        if self.event and rec.get("event") not in self.event:
            return None
        if self.direction and rec.get("direction") not in self.direction:
            return None
        if self.source and rec.get("source") not in self.source:
            return None
        if self.stage and rec.get("smtp_stage") not in self.stage:
            return None
        if self.error_code:
            if rec.get("error_code") not in self.error_code:
                return None
            evidence.append(f"error_code={rec.get('error_code')}")
        if self.smtp_code:
            if rec.get("smtp_code") not in self.smtp_code:
                return None
            evidence.append(f"smtp_code={rec.get('smtp_code')}")
        if self.enhanced_status:
            status = rec.get("enhanced_status") or ""
            if not any(_status_matches(status, p) for p in self.enhanced_status):
                return None
            evidence.append(f"enhanced_status={status}")
        if self.relay_host is not None:
            if not _search(self.relay_host, rec.get("relay_host") or ""):
                return None
            evidence.append(f"relay_host={rec.get('relay_host')}")
        if self.relay_port:
            if rec.get("relay_port") not in self.relay_port:
                return None
            evidence.append(f"relay_port={rec.get('relay_port')}")
        if self.tls_mode:
            if (rec.get("tls_mode") or "") not in self.tls_mode:
                return None
            evidence.append(f"tls_mode={rec.get('tls_mode') or 'not logged'}")
        sig = rec.get("signature") or ""
        if self.diagnostic is not None:
            m = _search(self.diagnostic, sig)
            if not m:
                return None
            evidence.append(f"diagnostic contains {m.group(0)!r}")
        if self.not_diagnostic is not None and _search(self.not_diagnostic, sig):
            return None
        if not evidence:
            evidence.append(f"event={rec.get('event')}")
        return "; ".join(evidence)


def _status_matches(status: str, pattern: str) -> bool:
    # "5.1.1" matches exactly (not 5.1.10); "5.1" matches any 5.1.x.
    return status == pattern or (pattern.count(".") < 2 and status.startswith(pattern + "."))


def _search(pattern: regex.Pattern, text: str):
    try:
        return pattern.search(text, timeout=REGEX_TIMEOUT)
    except TimeoutError:
        return None


def _compile(text: str | None, where: str) -> regex.Pattern | None:
    if not text:
        return None
    try:
        return regex.compile(text, regex.IGNORECASE | regex.V0)
    except regex.error as exc:
        raise RuleError(f"{where}: bad regex {text!r}: {exc}") from exc


def _tuple(value: Any) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def _example(value: Any) -> dict[str, Any]:
    return {"diagnostic": value} if isinstance(value, str) else dict(value)


RULE_KEYS = {
    "id", "category", "title", "tier", "priority", "diagnostic", "not_diagnostic", "enhanced_status",
    "smtp_code", "event", "direction", "source", "stage", "error_code", "relay_host", "relay_port", "tls_mode",
    "references", "examples",
    "description",
}


def load_rule_file(path: Path | str, text: str | None = None, tier_override: str | None = None) -> list[Rule]:
    where = str(path)
    try:
        data = tomllib.loads(text if text is not None else Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"cannot read rule file {where}: {exc}") from exc
    rules = []
    for i, raw in enumerate(data.get("rule", [])):
        here = f"{where}: rule #{i + 1} ({raw.get('id', 'no id')})"
        unknown = set(raw) - RULE_KEYS
        if unknown:
            raise RuleError(f"{here}: unknown keys {sorted(unknown)}")
        for key in ("id", "category", "title"):
            if not raw.get(key):
                raise RuleError(f"{here}: '{key}' is required")
        tier = tier_override or raw.get("tier", "text")
        if tier not in TIERS:
            raise RuleError(f"{here}: tier must be one of {TIERS}")
        examples = raw.get("examples", {})
        rules.append(
            Rule(
                id=raw["id"],
                category=raw["category"],
                title=raw["title"],
                tier=tier,
                priority=int(raw.get("priority", 50)),
                diagnostic=_compile(raw.get("diagnostic"), here),
                not_diagnostic=_compile(raw.get("not_diagnostic"), here),
                enhanced_status=_tuple(raw.get("enhanced_status")),
                smtp_code=tuple(int(c) for c in _tuple(raw.get("smtp_code"))),
                event=_tuple(raw.get("event")),
                direction=_tuple(raw.get("direction")),
                source=_tuple(raw.get("source")),
                stage=_tuple(raw.get("stage")),
                error_code=tuple(str(c) for c in _tuple(raw.get("error_code"))),
                relay_host=_compile(raw.get("relay_host"), here),
                relay_port=tuple(int(p) for p in _tuple(raw.get("relay_port"))),
                tls_mode=tuple(str(m) for m in _tuple(raw.get("tls_mode"))),
                references=_tuple(raw.get("references")),
                examples_match=tuple(_example(e) for e in examples.get("match", [])),
                examples_no_match=tuple(_example(e) for e in examples.get("no_match", [])),
                origin=where,
            )
        )
    return rules


def load_categories() -> dict[str, Category]:
    text = resources.files("logscan").joinpath("knowledge/categories.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {cid: _category(cid, c) for cid, c in data.items()}


def _category(cid: str, c: dict[str, Any]) -> Category:
    translations: dict[str, dict[str, Any]] = {}
    for lang in LANGUAGES[1:]:
        for name in ("title", "description", "remediation"):
            value = c.get(f"{name}_{lang}")
            if value:
                translations.setdefault(lang, {})[name] = tuple(value) if name == "remediation" else value
    return Category(cid, c["family"], c["title"], c["description"], tuple(c["remediation"]), translations)


def builtin_rule_texts() -> list[tuple[str, str]]:
    folder = resources.files("logscan").joinpath("knowledge/rules")
    return sorted(
        (f"logscan/knowledge/rules/{p.name}", p.read_text(encoding="utf-8"))
        for p in folder.iterdir()
        if p.name.endswith(".toml")
    )


@dataclass
class Verdict:
    category: str
    rule_id: str
    evidence: str


# ---------------------------------------------------------------- vocabulary ----
VOCAB_PREFIX = "VOC:"
VOCAB_GROUP_KEYS = {"category", "lang", "weight", "source", "phrases"}
VOCAB_SCOPE_KEYS = {"direction", "stage", "not_stage", "not_event"}
# Scripts whose words are delimited (a phrase there is matched as whole words). CJK, kana, Hangul
# (its particles attach to the noun) and Arabic (its article and conjunctions attach) are not.
_SPACED_SCRIPTS = regex.compile(r"[\p{Latin}\p{Greek}\p{Cyrillic}\p{Nd}]")
_WS = regex.compile(r"\s+")


def _phrase_key(text: str) -> str:
    return _WS.sub(" ", text.casefold().replace("\u2019", "'")).strip()


def _phrase_tokens(phrase: str) -> list[str]:
    """A phrase as a list of bounded regex tokens: a space matches one whitespace character, an
    apostrophe either form; a leading or trailing '*' lifts the word boundary on that side (a stem:
    'unbekannt*'). Letters are lower-cased so that phrases share trie nodes (the pattern is compiled
    case-insensitive)."""
    head, tail = phrase.startswith("*"), phrase.endswith("*")
    core = phrase.strip("*").strip()
    tokens = [r"\s" if c.isspace() else "['\u2019]" if c in "'\u2019" else re.escape(c.lower()) for c in core]
    if not head and _SPACED_SCRIPTS.match(core[0]):
        tokens.insert(0, r"\b")
    if not tail and _SPACED_SCRIPTS.match(core[-1]):
        tokens.append(r"\b")
    return tokens


_END = ""  # marks the end of a phrase in the trie


def _trie_pattern(node: dict) -> str:
    """The phrases of a trie as one nested alternation of literals. A phrase that is the prefix of a
    longer one becomes an optional tail, tried first (greedy), so the longest phrase at a position
    wins. One pass over the text, each position trying only the branches its next characters allow:
    the cost stays linear in the text (1,200 flat alternatives cost ~100 times more)."""
    # A word boundary that ends a phrase is tried last: "benutzer unbekannt" before "benutzer".
    alts = [tok + _trie_pattern(child) for tok, child in sorted(node.items(), key=lambda kv: (kv[0] == r"\b", kv[0]))
            if tok != _END]
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return f"(?:{body})?" if _END in node else body


@dataclass(frozen=True)
class VocabularyScope:
    """Where a category's phrases count: directions, stages (a row whose stage is not logged
    always counts), stages and events excluded."""

    direction: tuple[str, ...] = ()
    stage: tuple[str, ...] = ()
    not_stage: tuple[str, ...] = ()
    not_event: tuple[str, ...] = ()

    def admits(self, rec: dict[str, Any]) -> bool:
        stage = rec.get("smtp_stage")
        return not ((self.direction and rec.get("direction") not in self.direction)
                    or rec.get("event") in self.not_event
                    or (self.stage and stage and stage not in self.stage)
                    or (stage and stage in self.not_stage))


@dataclass
class Vocabulary:
    """Weighted phrases per category (logscan/knowledge/vocabulary.toml), for a reply that no rule
    knows. A category's score is the sum of the weights of its distinct phrases found in the
    signature; the verdict is the highest-scoring category admitted by its scope, if its score
    reaches `threshold` and no other admitted category scores as much (a tie decides nothing)."""

    threshold: float
    source: str  # the trie-shaped alternation, compiled on first use (most runs' rows all match a rule)
    index: dict[str, list[tuple[str, float, str]]]  # phrase key -> (category, weight, lang)
    scopes: dict[str, VocabularyScope]
    origin: str = ""
    _pattern: re.Pattern | None = field(default=None, repr=False)

    @property
    def pattern(self) -> re.Pattern | None:
        """The `re` module, as in signature.py: the pattern is literals and optional groups only (no
        repetition, so no backtracking blow-up and no need for `regex`'s timeout), and `re`
        compiles it in a third of the time and searches it three times as fast."""
        if self._pattern is None and self.source:
            self._pattern = re.compile(self.source, re.IGNORECASE)
        return self._pattern

    @property
    def phrase_count(self) -> int:
        return sum(len(v) for v in self.index.values())

    def scores(self, text: str) -> dict[str, dict[str, tuple[float, str]]]:
        """category -> {phrase as found: (weight, lang)} for every phrase in text. Matches do not
        overlap and the longest phrase at a position wins: in "sending quota exceeded" the sender's
        "sending quota" is found, not the mailbox's "quota exceeded"."""
        found: dict[str, dict[str, tuple[float, str]]] = {}
        if not text or self.pattern is None:
            return found
        for m in self.pattern.finditer(text):
            key = _phrase_key(m.group(0))
            for category, weight, lang in self.index.get(key, ()):
                found.setdefault(category, {}).setdefault(key, (weight, lang))
        return found

    def judge(self, rec: dict[str, Any]) -> tuple[Verdict | None, str]:
        """The vocabulary's verdict (or None) and, without one, why (for `unknown`'s evidence)."""
        found = {c: p for c, p in self.scores(rec.get("signature") or "").items()
                 if self.scopes.get(c, _ANY_SCOPE).admits(rec)}
        if not found:
            return None, ""
        ranked = sorted(((sum(w for w, _ in p.values()), c) for c, p in found.items()), key=lambda t: (-t[0], t[1]))
        shown = "; ".join(f"{c} {s:g} ({', '.join(repr(k) for k in sorted(found[c]))})" for s, c in ranked)
        (best, category), rest = ranked[0], ranked[1:]
        if best < self.threshold:
            return None, f"vocabulary below threshold {self.threshold:g}: {shown}"
        if rest and rest[0][0] == best:
            return None, f"vocabulary tie: {shown}"
        return Verdict(category, VOCAB_PREFIX + category, f"vocabulary: {shown}"), ""


_ANY_SCOPE = VocabularyScope()


def load_vocabulary(path: Path | str | None = None, text: str | None = None,
                    categories: dict[str, Category] | None = None) -> Vocabulary:
    where = str(path or "logscan/knowledge/vocabulary.toml")
    if text is None:
        text = (Path(path).read_text(encoding="utf-8") if path else
                resources.files("logscan").joinpath("knowledge/vocabulary.toml").read_text(encoding="utf-8"))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"cannot read vocabulary {where}: {exc}") from exc
    threshold = float(data.get("threshold", 2))
    scopes = {}
    for cat, raw in data.get("scope", {}).items():
        unknown = set(raw) - VOCAB_SCOPE_KEYS
        if unknown:
            raise RuleError(f"{where}: scope {cat}: unknown keys {sorted(unknown)}")
        scopes[cat] = VocabularyScope(*(tuple(_tuple(raw.get(k))) for k in ("direction", "stage", "not_stage", "not_event")))
    index: dict[str, list[tuple[str, float, str]]] = {}
    trie: dict = {}
    for i, g in enumerate(data.get("group", [])):
        here = f"{where}: group #{i + 1} ({g.get('category', 'no category')}, {g.get('lang', '?')})"
        unknown = set(g) - VOCAB_GROUP_KEYS
        if unknown:
            raise RuleError(f"{here}: unknown keys {sorted(unknown)}")
        missing = [k for k in ("category", "lang", "weight", "source", "phrases") if not g.get(k)]
        if missing:
            raise RuleError(f"{here}: {', '.join(missing)} required (source: where the phrases come from)")
        if categories is not None and g["category"] not in categories:
            raise RuleError(f"{here}: unknown category {g['category']!r}")
        for phrase in g["phrases"]:
            key = _phrase_key(phrase.strip("*"))
            if len(key) < 2:
                raise RuleError(f"{here}: phrase {phrase!r} is too short")
            if any(c == g["category"] for c, _, _ in index.get(key, ())):
                raise RuleError(f"{here}: phrase {phrase!r} is listed twice for {g['category']}")
            index.setdefault(key, []).append((g["category"], float(g["weight"]), g["lang"]))
            node = trie
            for token in _phrase_tokens(phrase):
                node = node.setdefault(token, {})
            node[_END] = True
    for cat in scopes:
        if categories is not None and cat not in categories:
            raise RuleError(f"{where}: scope for unknown category {cat!r}")
    return Vocabulary(threshold, _trie_pattern(trie), index, scopes, where)


@dataclass
class Engine:
    rules: list[Rule]
    categories: dict[str, Category]
    vocabulary: Vocabulary | None = None
    stats: dict[str, int] = field(default_factory=dict)
    _verdicts: dict[tuple, Verdict] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, user_rule_files: list[Path] | tuple = ()) -> Engine:
        categories = load_categories()
        rules: list[Rule] = []
        for path in user_rule_files:
            rules.extend(load_rule_file(path, tier_override="user"))
        for name, text in builtin_rule_texts():
            rules.extend(load_rule_file(name, text))
        seen: set[str] = set()
        for r in rules:
            if r.id in seen:
                raise RuleError(f"{r.origin}: rule id {r.id} is used twice")
            seen.add(r.id)
            if r.category not in categories:
                raise RuleError(f"{r.origin}: rule {r.id} names unknown category {r.category!r}",
                                hint="`logscan rules categories` lists them")
        rules.sort(key=lambda r: (TIERS.index(r.tier), -r.priority, r.id))
        return cls(rules, categories, load_vocabulary(categories=categories))

    def classify(self, rec: dict[str, Any]) -> Verdict:
        """Classify one record (fields of the failure table; `signature` is computed if absent)."""
        if not rec.get("signature"):
            rec = dict(rec, signature=signature_of(rec.get("diagnostic")))
        split = next((i for i, r in enumerate(self.rules) if r.tier == "status"), len(self.rules))
        for rule in self.rules[:split]:
            evidence = rule.matches(rec)
            if evidence is not None:
                return Verdict(rule.category, rule.id, evidence)
        vocabulary_said = ""
        if self.vocabulary is not None:  # between the text rules and the status fallbacks
            v, vocabulary_said = self.vocabulary.judge(rec)
            if v is not None:
                return v
        for rule in self.rules[split:]:
            evidence = rule.matches(rec)
            if evidence is not None:
                return Verdict(rule.category, rule.id, evidence)
        return Verdict("unknown", "", "no rule matched" + (f"; {vocabulary_said}" if vocabulary_said else ""))

    def last_deferral(self, rec: dict[str, Any]) -> Verdict | None:
        """For an expired record whose diagnostic carries its last deferral (the parsers write
        "...; last deferral: <text>", with the deferral's relay, code, status and stage in the
        record's fields): the verdict on that deferral. None for any other record."""
        if rec.get("event") != "expired":
            return None
        text = (rec.get("diagnostic") or "").partition(LAST_DEFERRAL)[2]
        if not text:
            return None
        deferral = dict(rec, event="deferred", signature=signature_of(text))
        key = tuple(deferral.get(k) for k in KEY_FIELDS)
        v = self._verdicts.get(key)
        if v is None:
            v = self._verdicts[key] = self.classify(deferral)
        return v

    def classify_table(self, table: pa.Table) -> pa.Table:
        """Fill signature, category, rule_id and last_deferral_category; each distinct key is
        classified once."""
        if table.num_rows == 0:
            return table
        import pyarrow as pa

        from .arrowcols import column

        signatures = table.column("signature").to_pylist()
        if None in signatures:  # tables built by the pipeline arrive signed
            signatures = signatures_of(table.column("diagnostic").to_pylist())
        columns = [signatures if k == "signature" else table.column(k).to_pylist() for k in KEY_FIELDS]
        verdicts = self._verdicts  # kept across batches: each distinct key is classified once per scan
        categories, rule_ids = [], []
        for key in zip(*columns, strict=True):
            v = verdicts.get(key)
            if v is None:
                v = verdicts[key] = self.classify(dict(zip(KEY_FIELDS, key, strict=True)))
            categories.append(v.category)
            rule_ids.append(v.rule_id or None)
        self.stats["rows"] = self.stats.get("rows", 0) + table.num_rows
        self.stats["distinct_keys"] = len(verdicts)
        deferral = self._last_deferral_categories(table)
        for name, values in (("signature", signatures), ("category", categories), ("rule_id", rule_ids),
                             ("last_deferral_category", deferral)):
            table = table.set_column(table.schema.get_field_index(name), name, column(values, pa.string()))
        return table

    def verdicts_after(self, known: int) -> dict[tuple, Verdict]:
        """The verdicts found after the first `known` (the cache keeps insertion order): what a
        worker process classified beyond what it inherited (logscan/pipeline.py)."""
        return dict(list(self._verdicts.items())[known:])

    def absorb(self, verdicts: dict[tuple, Verdict], rows: int) -> None:
        """Take in a worker's verdicts and classified row count, so the scan's stats cover them."""
        self._verdicts.update(verdicts)
        self.stats["rows"] = self.stats.get("rows", 0) + rows
        self.stats["distinct_keys"] = len(self._verdicts)

    def _last_deferral_categories(self, table: pa.Table) -> list[str | None]:
        out: list[str | None] = [None] * table.num_rows
        rows = [i for i, e in enumerate(table.column("event").to_pylist()) if e == "expired"]
        if not rows:
            return out
        fields = [f for f in KEY_FIELDS if f != "signature"] + ["diagnostic"]
        import pyarrow as pa

        from .arrowcols import column

        # Only the expired rows leave Arrow. take() of a Python list would convert it with
        # pa.array(), which imports pandas (half a second of every scan with an expired message).
        expired = table.select(fields).take(column(rows, pa.int64())).to_pylist()
        for i, rec in zip(rows, expired, strict=True):
            v = self.last_deferral(rec)
            out[i] = v.category if v else None
        return out


def example_failures(engine: Engine, only: set[Path] | None = None) -> list[str]:
    """Every rule example the whole engine gets wrong: a `match` example classified by another
    rule (or none), or a `no_match` example classified by this rule."""
    wanted = {str(p) for p in only} if only else None
    problems = []
    for rule in engine.rules:
        if wanted is not None and rule.origin not in wanted:
            continue
        for ex in rule.examples_match:
            got = engine.classify(ex)
            if got.rule_id != rule.id:
                problems.append(f"{rule.id}: expected to classify {ex!r}, got {got.rule_id or 'unknown'}")
        for ex in rule.examples_no_match:
            got = engine.classify(ex)
            if got.rule_id == rule.id:
                problems.append(f"{rule.id}: must not classify {ex!r}")
        if not rule.examples_match:
            problems.append(f"{rule.id}: has no example that must match")
    return problems
