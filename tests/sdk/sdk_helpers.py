"""Helpers shared by the SDK conformance tests: the fake upstream's deterministic counting rules.

See tools/fake_upstream/README.md: a token is a whitespace-separated word; prompt tokens are the
words of all request text plus 3 per message (directives `[[fake ...]]` included, since they are
part of the text); the reply echoes the last user text with directives removed.
"""

from __future__ import annotations

import re
import uuid

_DIRECTIVE = re.compile(r"\[\[fake[^\]]*\]\]")


def words(text: str) -> int:
    return len(text.split())


def fake_prompt_tokens(messages: list[dict]) -> int:
    """Prompt tokens the fake counts for plain-text messages (no tools)."""
    return sum(words(m["content"]) + 3 for m in messages)


def echo_of(user_text: str) -> str:
    """The part of the fake's reply that echoes the user's text."""
    return "You said: " + " ".join(_DIRECTIVE.sub("", user_text).split())


def marker() -> str:
    """A unique word to tell this test's request apart in the fake's /_fake/last."""
    return "mk" + uuid.uuid4().hex[:12]
