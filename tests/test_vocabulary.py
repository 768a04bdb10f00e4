"""The vocabulary tier (logscan/knowledge/vocabulary.toml), run through the whole engine as
tests/test_rules.py runs the rules: per language, replies it must and must not classify; its
threshold, tie rule and scopes; and that a specific rule always wins over it."""

from __future__ import annotations

import pytest
import regex

from logscan.engine import Engine, load_categories, load_vocabulary
from logscan.errors import RuleError


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _classify(engine: Engine, text: str, **fields):
    return engine.classify({"diagnostic": text, "direction": "outbound", **fields})


# (language, reply text, category). Replies as a receiving server or its DSN words them; the
# phrases' sources are cited in vocabulary.toml. No text rule knows these wordings.
MUST_MATCH = [
    ("de", "550 5.1.1 <bob@example.de>: Benutzer unbekannt", "recipient_unknown"),
    ("de", "552 Das Postfach des Empfängers ist voll", "mailbox_full"),
    ("de", "550 Konto deaktiviert", "mailbox_disabled"),
    ("fr", "550 5.1.1 <bob@example.fr>: utilisateur inconnu", "recipient_unknown"),
    ("fr", "552 Boîte aux lettres pleine", "mailbox_full"),
    ("fr", "550 Domaine introuvable", "recipient_domain_invalid"),
    ("es", "550 Usuario inexistente", "recipient_unknown"),
    ("es", "552 El buzón está lleno", "mailbox_full"),
    ("es", "550 Esta casilla ha expirado por falta de uso", "mailbox_disabled"),
    ("pt", "550 Usuário desconhecido", "recipient_unknown"),
    ("pt", "552 A caixa postal está cheia", "mailbox_full"),
    ("it", "550 Utente sconosciuto", "recipient_unknown"),
    ("it", "552 Casella di posta piena", "mailbox_full"),
    ("nl", "550 Gebruiker onbekend", "recipient_unknown"),
    ("nl", "552 Postvak vol", "mailbox_full"),
    ("pl", "550 Użytkownik nie istnieje", "recipient_unknown"),
    ("pl", "552 Skrzynka odbiorcy jest pełna", "mailbox_full"),
    ("cs", "550 Uživatel neexistuje", "recipient_unknown"),
    ("cs", "552 Schránka je plná", "mailbox_full"),
    ("ru", "550 Пользователь не найден", "recipient_unknown"),
    ("ru", "552 Почтовый ящик переполнен", "mailbox_full"),
    ("ru", "550 Сообщение похоже на спам", "spam_detected"),
    ("zh", "550 收件人不存在，请检查地址", "recipient_unknown"),
    ("zh", "552 对方邮箱已满，无法接收", "mailbox_full"),
    ("zh", "550 该帐号已冻结", "mailbox_disabled"),
    ("zh", "550 邮件被判定为垃圾邮件", "spam_detected"),
    ("zh", "451 发送频率过快，请稍后再试", "rate_limited"),
    ("zh-Hant", "550 收件者不存在", "recipient_unknown"),
    ("ja", "550 宛先のメールアドレスが存在しません", "recipient_unknown"),
    ("ja", "552 メールボックスが一杯です", "mailbox_full"),
    ("ko", "550 존재하지 않는 사용자입니다", "recipient_unknown"),
    ("ko", "552 받는 사람의 메일함이 가득 찼습니다", "mailbox_full"),
    ("ar", "550 المستخدم غير موجود", "recipient_unknown"),
    ("ar", "552 صندوق البريد ممتلئ", "mailbox_full"),
    ("tr", "550 Kullanıcı bulunamadı", "recipient_unknown"),
    ("en", "550 5.1.1 <bob@example.org>... Addressee unknown, relay=mx.example.org", "recipient_unknown"),
    ("en", "554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain", "recipient_domain_invalid"),
    ("en", "452 Mailbox quota over limit", "mailbox_full"),
    ("en", "550 Mailbox for this user is dormant and disabled", "mailbox_disabled"),
]


@pytest.mark.parametrize("lang,text,category", MUST_MATCH, ids=[f"{m[0]}-{m[2]}-{i}" for i, m in enumerate(MUST_MATCH)])
def test_vocabulary_classifies_replies_in_every_language(engine, lang, text, category):
    v = _classify(engine, text)
    assert (v.category, v.rule_id) == (category, f"VOC:{category}"), v
    assert v.evidence.startswith("vocabulary: ") and category in v.evidence  # names what it matched


MUST_NOT_MATCH = [
    # (text, extra fields): words of the vocabulary, but no cause named (or named for another reader)
    ("550 Unknown error", {}),  # 'unknown' alone is no phrase
    ("451 Temporary failure, please try again", {}),
    ("550 Hauptbenutzer unbekannterweise gesperrt", {}),  # Latin script: whole words only
    ("550 quota", {}),  # one cue is below the threshold
    ("550 用户不存在", {"smtp_stage": "AUTH"}),  # a recipient cannot be what AUTH failed on
    ("535 Benutzer unbekannt", {"event": "auth_failed"}),
    ("550 Konto deaktiviert", {"smtp_stage": "MAIL FROM", "smtp_code": None}),  # before RCPT TO: not a recipient's mailbox
    ("服务器繁忙", {"direction": "inbound"}),  # the receiving server's own fault only in a reply we got
]


@pytest.mark.parametrize("text,fields", MUST_NOT_MATCH)
def test_vocabulary_does_not_classify_replies_that_name_no_cause(engine, text, fields):
    v = _classify(engine, text, **fields)
    assert not v.rule_id.startswith("VOC:"), v


def test_below_threshold_and_ties_stay_unknown_with_their_evidence(engine):
    v = _classify(engine, "550 foo quota")
    assert v.category == "unknown" and "below threshold" in v.evidence and "'quota'" in v.evidence
    v = _classify(engine, "550 utilisateur inconnu / boîte pleine")
    assert v.category == "unknown" and "vocabulary tie" in v.evidence
    assert "recipient_unknown 2" in v.evidence and "mailbox_full 2" in v.evidence
    # With a status code, the fallback after the vocabulary answers the tie.
    v = _classify(engine, "550 5.2.2 utilisateur inconnu / boîte pleine", enhanced_status="5.2.2")
    assert (v.category, v.rule_id) == ("mailbox_full", "STA005")


def test_scores_add_up_and_the_longest_phrase_wins(engine):
    v = _classify(engine, "452 Mailbox quota over limit")
    assert v.evidence == "vocabulary: mailbox_full 3 ('mailbox quota', 'over limit')"
    # "sending quota" (the sender's limit) is found, not the mailbox's overlapping "quota exceeded".
    assert engine.vocabulary.scores("sending quota exceeded") == {"rate_limited": {"sending quota": (3.0, "en")}}
    # A noun and an adjective cue (1 each) reach the threshold together, not alone.
    v = _classify(engine, "550 Der Empfänger ist unbekannt")
    assert (v.category, v.evidence) == ("recipient_unknown", "vocabulary: recipient_unknown 2 ('empfänger', 'unbekannt')")
    assert _classify(engine, "550 Der Empfänger").category == "unknown"


def test_a_cause_named_beside_gave_up_is_the_answer(engine):
    v = _classify(engine, "Postfach voll: retry timeout exceeded")
    assert (v.category, v.rule_id) == ("mailbox_full", "VOC:mailbox_full")
    assert _classify(engine, "retry timeout exceeded").rule_id == "OTH003"  # the fallback, when no cause is named


def test_a_specific_rule_always_wins_over_the_vocabulary(engine):
    """Every text or provider rule's own examples, with a strong phrase of another category added,
    are still classified by that rule: the vocabulary never overrides a specific rule."""
    phrase = " 用户不存在 Benutzer unbekannt"  # recipient_unknown 4 in the vocabulary
    checked = 0
    for rule in engine.rules:
        if rule.tier == "status" or rule.category == "recipient_unknown" or rule.diagnostic is None:
            continue
        if regex.search(r"(?<!\\)[$]", rule.diagnostic.pattern):
            continue  # anchored at the end: a suffix changes the text it reads
        for ex in rule.examples_match:
            rec = dict(ex, diagnostic=ex["diagnostic"] + phrase, signature=None)
            got = engine.classify(rec)
            assert got.rule_id == rule.id, (rule.id, rec, got)
            checked += 1
    assert checked > 200
    v = _classify(engine, "554 5.7.1 <a@b.example>: Relay access denied; Benutzer unbekannt", enhanced_status="5.7.1")
    assert v.rule_id == "POL001"


def test_vocabulary_names_its_sources_and_covers_the_main_languages(engine):
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("logscan").joinpath("knowledge/vocabulary.toml").read_text(encoding="utf-8"))
    assert all(g["source"].strip() for g in data["group"])
    langs = {g["lang"] for g in data["group"] if g["category"] == "recipient_unknown"}
    assert {"en", "zh", "ja", "ko", "de", "fr", "es", "pt", "it", "nl", "pl", "cs", "ru", "ar"} <= langs
    assert {g["lang"] for g in data["group"] if g["category"] == "mailbox_full"} >= {"en", "zh", "ja", "de", "fr", "es", "ru"}
    assert engine.vocabulary.phrase_count > 1000


@pytest.mark.parametrize("text,error", [
    ('[[group]]\ncategory = "recipient_unknown"\nlang = "en"\nweight = 2\nphrases = ["x y"]\n', "source"),
    ('[[group]]\ncategory = "nope"\nlang = "en"\nweight = 2\nsource = "s"\nphrases = ["x y"]\n', "unknown category"),
    ('[[group]]\ncategory = "mailbox_full"\nlang = "en"\nweight = 2\nsource = "s"\nphrases = ["a b", "A  B"]\n', "twice"),
    ('[[group]]\ncategory = "mailbox_full"\nlang = "en"\nweight = 2\nsource = "s"\nphrases = ["x"]\n', "too short"),
    ('[scope.mailbox_full]\nstages = ["AUTH"]\n', "unknown keys"),
    ("[[group]\n", "cannot read"),
])
def test_bad_vocabulary_files_are_clear_errors(text, error):
    with pytest.raises(RuleError, match=error):
        load_vocabulary("v.toml", text=text, categories=load_categories())


def test_word_boundaries_follow_the_script():
    v = load_vocabulary("v.toml", text='[[group]]\ncategory = "mailbox_full"\nlang = "x"\nweight = 2\nsource = "s"\n'
                                        'phrases = ["postfach voll", "邮箱已满", "unbekannt*"]\n')
    assert v.scores("Das Postfach voll.") and not v.scores("Das Postfach vollständig")
    assert v.scores("对方邮箱已满了")  # CJK: no word boundaries
    assert v.scores("unbekannter")  # a stem
    assert v.scores("a" * 100_000) == {}  # long input: one linear scan, no match


def test_every_phrase_is_found_as_itself(engine):
    """Each phrase, read alone, is found whole and counted for its category (the trie loses none)."""
    import tomllib
    from importlib import resources

    from logscan.engine import _phrase_key

    data = tomllib.loads(resources.files("logscan").joinpath("knowledge/vocabulary.toml").read_text(encoding="utf-8"))
    lost = []
    for g in data["group"]:
        for phrase in g["phrases"]:
            text = phrase.strip("*")
            if _phrase_key(text) not in engine.vocabulary.scores(text).get(g["category"], {}):
                lost.append((g["category"], phrase))
    assert lost == []
