"""The documented input rules (docs/security.md), written out independently of the validators:
the oracle the hostile-input tests compare stored values with."""
import re
import unicodedata


CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
SPACES = re.compile(r"\s+")


def nfc_no_controls(text):
    return unicodedata.normalize("NFC", CONTROLS.sub("", text))


def rule_text(text, min_len, max_len, collapse=False, optional=False):
    """(accepted, stored value) for a text field under the documented rules."""
    value = nfc_no_controls(text).strip()
    if collapse:
        value = SPACES.sub(" ", value)
    if optional and value == "":
        return True, None
    return min_len <= len(value) <= max_len, value


def rule_line(text, min_len, max_len, optional=False):
    """Names and titles: also without invisible format characters (Cf) but ZWNJ/ZWJ."""
    visible = "".join(ch for ch in text if ch in "\u200c\u200d" or unicodedata.category(ch) != "Cf")
    return rule_text(visible, min_len, max_len, collapse=True, optional=optional)


def rule_context(text):
    """prefix/suffix: whitespace collapsed but not trimmed (it touches the selection)."""
    value = SPACES.sub(" ", nfc_no_controls(text))
    return len(value) <= 64, value


COMMENT_FIELDS = {
    "author": lambda t: rule_line(t, 1, 80),
    "body": lambda t: rule_text(t, 1, 5000),
    "title": lambda t: rule_line(t, 0, 300, optional=True),
}
REPORT_FIELDS = {
    "exact": lambda t: rule_text(t, 1, 300, collapse=True),
    "prefix": rule_context,
    "suffix": rule_context,
    "suggestion": lambda t: rule_text(t, 0, 600, optional=True),
    "comment": lambda t: rule_text(t, 0, 1000, optional=True),
}
