"""Billing does not depend on the client's dialect: the same usage on the same upstream model yields
the same X-RouteAll-Usage-* and X-RouteAll-Charge-Credit headers whether the client spoke OpenAI,
Anthropic or Gemini. Raw HTTP requests (the SDKs hide response headers behind different APIs).
"""

from __future__ import annotations

import pytest
import requests

from conftest import HTTP_TIMEOUT_S
from sdk_helpers import marker

SYSTEM = "You are a terse assistant."
KNOBS = "[[fake prompt_tokens=972 cached_tokens=896 reasoning_tokens=12]]"
USAGE_HEADERS = [
    "X-RouteAll-Usage-Prompt",
    "X-RouteAll-Usage-Completion",
    "X-RouteAll-Usage-Cached-Tokens",
    "X-RouteAll-Usage-Reasoning-Tokens",
    "X-RouteAll-Usage-Calls",
]
CHARGE = "X-RouteAll-Charge-Credit"


def call(e2e, dialect: str, model: str, user: str) -> requests.Response:
    if dialect == "openai":
        r = requests.post(
            f"{e2e.base_url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {e2e.api_key}"},
            json={"model": model, "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]},
            timeout=HTTP_TIMEOUT_S,
        )
    elif dialect == "anthropic":
        r = requests.post(
            f"{e2e.base_url}/v1/messages",
            headers={"x-api-key": e2e.api_key, "anthropic-version": "2023-06-01"},
            json={"model": model, "max_tokens": 256, "system": SYSTEM, "messages": [{"role": "user", "content": user}]},
            timeout=HTTP_TIMEOUT_S,
        )
    else:
        r = requests.post(
            f"{e2e.base_url}/v1beta/models/{model}:generateContent",
            headers={"x-goog-api-key": e2e.api_key},
            json={
                "systemInstruction": {"parts": [{"text": SYSTEM}]},
                "contents": [{"role": "user", "parts": [{"text": user}]}],
            },
            timeout=HTTP_TIMEOUT_S,
        )
    assert r.status_code == 200, f"{dialect} client -> {model}: HTTP {r.status_code} {r.text[:300]}"
    return r


@pytest.mark.gateway_only
def test_charge_is_the_same_whichever_dialect_asked(e2e, upstream, upstream_model):
    # One text for all three calls: the fake's reply (and so the completion count) is the same.
    user = f"Bill me the same {marker()} {KNOBS}"
    got = {}
    for dialect in ("openai", "anthropic", "gemini"):
        r = call(e2e, dialect, upstream_model, user)
        missing = [h for h in USAGE_HEADERS + [CHARGE] if h not in r.headers]
        assert not missing, f"{dialect} client: response lacks {missing}"
        got[dialect] = {h: r.headers[h] for h in USAGE_HEADERS + [CHARGE]}

    assert got["openai"]["X-RouteAll-Usage-Prompt"] == "972"
    assert got["openai"]["X-RouteAll-Usage-Cached-Tokens"] == "896"
    assert float(got["openai"][CHARGE]) > 0
    assert got["anthropic"] == got["openai"], f"Anthropic vs OpenAI client: {got}"
    assert got["gemini"] == got["openai"], f"Gemini vs OpenAI client: {got}"
