"""Password policy: long enough, and hard to guess by zxcvbn's estimate (score 3 or more).

zxcvbn models how attackers guess (common passwords, words, names, dates, repeats, sequences,
keyboard rows, the account's own name) and scores the guesses needed from 0 to 4; 3 means
about 10^8 guesses, too many for online guessing at the rates sign-in throttling allows.
Its feedback (English) is translated through our catalogue, so the reason reads in both
languages.
"""
from __future__ import annotations

from flask_babel import gettext as _
from zxcvbn import zxcvbn

from surveyapp.i18n import in_both_languages

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_SCORE = 3
SCORED_LENGTH = 100  # zxcvbn's work grows with length; the first 100 characters decide


def N_(message: str) -> str:
    return message


ZXCVBN_FEEDBACK = (  # every warning and suggestion zxcvbn 4.5 gives, for the catalogue
    N_("A word by itself is easy to guess."),
    N_("Add another word or two. Uncommon words are better."),
    N_("Avoid dates and years that are associated with you."),
    N_("Avoid recent years."),
    N_("Avoid repeated words and characters."),
    N_("Avoid sequences."),
    N_("Avoid years that are associated with you."),
    N_("Capitalization doesn't help very much."),
    N_("Common names and surnames are easy to guess."),
    N_("Dates are often easy to guess."),
    N_("Names and surnames by themselves are easy to guess."),
    N_("No need for symbols, digits, or uppercase letters."),
    N_("Recent years are easy to guess."),
    N_('Repeats like "aaa" are easy to guess.'),
    N_("Reversed words aren't much harder to guess."),
    N_('Sequences like "abc" or "6543" are easy to guess.'),
    N_("Short keyboard patterns are easy to guess."),
    N_("Straight rows of keys are easy to guess."),
    N_("This is a top-10 common password."),
    N_("This is a top-100 common password."),
    N_("This is a very common password."),
    N_("This is similar to a commonly used password."),
    N_("Use a few words, avoid common phrases."),
    N_("Use a longer keyboard pattern with more turns."),
)


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is refused ("密码：... / password: ..."), or None when it is acceptable."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return (f"密码：至少 {MIN_LENGTH} 个字符 / password: at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        return (f"密码：最多 {MAX_LENGTH} 个字符 / password: at most {MAX_LENGTH} characters")
    verdict = zxcvbn(password[:SCORED_LENGTH], user_inputs=[username] if username else [],
                     max_length=SCORED_LENGTH)
    if verdict["score"] >= MIN_SCORE:
        return None
    feedback = verdict["feedback"]
    reason = feedback["warning"] or next(iter(feedback["suggestions"]), "")
    known = reason if reason in ZXCVBN_FEEDBACK else N_("Use a few words, avoid common phrases.")
    texts = in_both_languages(lambda: _("too easy to guess: %(reason)s", reason=_(known)))
    return f"密码：{texts['zh']} / password: {texts['en']}"
