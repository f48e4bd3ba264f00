"""Pytest configuration for the SDK conformance tests (official OpenAI Python SDK -> RouteAll).

Environment (set by scripts/test):
  ROUTEALL_E2E_BASE_URL       gateway root, e.g. http://127.0.0.1:18080 (SDK base_url = that + /v1)
  ROUTEALL_E2E_API_KEY        a valid sk-ra-... key with balance
  ROUTEALL_E2E_MODEL          canonical model routed to an OpenAI-format fake channel
  ROUTEALL_E2E_FAKE_URL       fake upstream root (for /_fake/stats, /_fake/last); optional
  ROUTEALL_E2E_FAKE_INSTANCE  fake instance the model's channel uses (default "default")
  ROUTEALL_E2E_MODELS_BY_UPSTREAM
                              optional JSON {"openai": model, "anthropic": model, "gemini": model}: a
                              model routed to a channel of each upstream dialect. Tests taking the
                              `upstream` fixture run once per entry; unset -> {"openai": ROUTEALL_E2E_MODEL}
  ROUTEALL_E2E_FAKE_INSTANCES optional JSON {upstream dialect: fake instance name}; unset -> the
                              "openai" upstream uses ROUTEALL_E2E_FAKE_INSTANCE
  ROUTEALL_E2E_DIRECT_FAKE=1  BASE_URL points at the fake itself (http://127.0.0.1:P/x/<instance>):
                              tests marked gateway_only are skipped
  ROUTEALL_TEST_REQUIRE_INTEGRATION=1
                              a missing ROUTEALL_E2E_BASE_URL fails every test instead of skipping
"""

from __future__ import annotations

import dataclasses
import json
import os

import openai
import pytest
import requests

HTTP_TIMEOUT_S = 30.0


@dataclasses.dataclass(frozen=True)
class E2EConfig:
    base_url: str  # gateway root, no trailing slash
    api_key: str
    model: str
    fake_url: str | None
    fake_instance: str
    direct_fake: bool
    models_by_upstream: dict  # upstream dialect -> model routed to a channel of that dialect
    fake_instances: dict  # upstream dialect -> fake instance name

    @property
    def api_base(self) -> str:
        return self.base_url + "/v1"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _json_map(name: str) -> dict | None:
    """A JSON object of non-empty strings from the environment, or None when unset."""
    raw = _env(name)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise ValueError(f"{name} is not JSON: {e}") from None
    if not isinstance(value, dict) or not value or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ValueError(f"{name} must be a non-empty JSON object of strings, got {raw!r}")
    return value


def _load_config() -> tuple[E2EConfig | None, str | None]:
    """Returns (config, None) or (None, reason the suite cannot run)."""
    base = _env("ROUTEALL_E2E_BASE_URL")
    if base is None:
        return None, "ROUTEALL_E2E_BASE_URL is not set (no RouteAll gateway to test against)"
    missing = [n for n in ("ROUTEALL_E2E_API_KEY", "ROUTEALL_E2E_MODEL") if _env(n) is None]
    if missing:
        return None, f"ROUTEALL_E2E_BASE_URL is set but {', '.join(missing)} is not"
    fake_url = _env("ROUTEALL_E2E_FAKE_URL")
    fake_instance = _env("ROUTEALL_E2E_FAKE_INSTANCE") or "default"
    try:
        by_upstream = _json_map("ROUTEALL_E2E_MODELS_BY_UPSTREAM") or {"openai": _env("ROUTEALL_E2E_MODEL")}
        instances = _json_map("ROUTEALL_E2E_FAKE_INSTANCES") or {"openai": fake_instance}
    except ValueError as e:
        return None, str(e)
    return (
        E2EConfig(
            base_url=base.rstrip("/"),
            api_key=_env("ROUTEALL_E2E_API_KEY") or "",
            model=_env("ROUTEALL_E2E_MODEL") or "",
            fake_url=fake_url.rstrip("/") if fake_url else None,
            fake_instance=fake_instance,
            direct_fake=_truthy("ROUTEALL_E2E_DIRECT_FAKE"),
            models_by_upstream=by_upstream,
            fake_instances=instances,
        ),
        None,
    )


_CONFIG, _CONFIG_PROBLEM = _load_config()
_REQUIRE = _truthy("ROUTEALL_TEST_REQUIRE_INTEGRATION")


def pytest_report_header(config):
    if _CONFIG is None:
        mode = "FAIL" if _REQUIRE else "skip"
        return [f"routeall sdk: {_CONFIG_PROBLEM} -> {mode}"]
    c = _CONFIG
    return [
        f"routeall sdk: base={c.base_url} model={c.model} fake={c.fake_url or '-'}"
        f" instance={c.fake_instance} direct_fake={int(c.direct_fake)}",
        f"routeall sdk: upstreams={json.dumps(c.models_by_upstream)} fake_instances={json.dumps(c.fake_instances)}",
    ]


def pytest_generate_tests(metafunc):
    """Tests taking `upstream` run once per upstream dialect (ROUTEALL_E2E_MODELS_BY_UPSTREAM)."""
    if "upstream" in metafunc.fixturenames:
        # Without a config there is still one instance of the test, which the gate skips/fails.
        names = list(_CONFIG.models_by_upstream) if _CONFIG is not None else ["openai"]
        metafunc.parametrize("upstream", names, ids=[f"up-{n}" for n in names])


def _require_config() -> E2EConfig:
    """The config, or skip (fail, when integration is required) the current test without one."""
    if _CONFIG is None:
        if _REQUIRE:
            pytest.fail(f"ROUTEALL_TEST_REQUIRE_INTEGRATION=1 but {_CONFIG_PROBLEM}", pytrace=False)
        pytest.skip(_CONFIG_PROBLEM)
    return _CONFIG


@pytest.fixture(autouse=True)
def _e2e_gate(request):
    """Skips (or, when integration is required, fails) tests that cannot run in this environment."""
    _require_config()
    if _CONFIG.direct_fake and request.node.get_closest_marker("gateway_only"):
        pytest.skip("gateway-only: ROUTEALL_E2E_DIRECT_FAKE=1 (talking to the fake upstream directly)")
    if _CONFIG.fake_url is None and request.node.get_closest_marker("needs_fake_url"):
        pytest.skip("ROUTEALL_E2E_FAKE_URL is not set (cannot inspect what the upstream received)")


@pytest.fixture(scope="session")
def e2e() -> E2EConfig:
    # Session fixtures are set up before the autouse gate, so check here too.
    return _require_config()


@pytest.fixture(scope="session")
def model(e2e) -> str:
    return e2e.model


@pytest.fixture
def upstream_model(e2e, upstream) -> str:
    """The model routed to a channel of the `upstream` dialect (parametrized by pytest_generate_tests)."""
    return e2e.models_by_upstream[upstream]


def make_client(e2e: E2EConfig, api_key: str | None = None) -> openai.OpenAI:
    # No SDK retries: a retried request would hide gateway errors and double upstream counts.
    return openai.OpenAI(
        base_url=e2e.api_base,
        api_key=api_key if api_key is not None else e2e.api_key,
        max_retries=0,
        timeout=HTTP_TIMEOUT_S,
    )


@pytest.fixture(scope="session")
def client(e2e) -> openai.OpenAI:
    c = make_client(e2e)
    yield c
    c.close()


@pytest.fixture
def client_with_key(e2e):
    """Factory: an OpenAI client for the same gateway with another API key."""
    made: list[openai.OpenAI] = []

    def factory(api_key: str) -> openai.OpenAI:
        c = make_client(e2e, api_key=api_key)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()


class FakeUpstream:
    """The fake upstream's inspection endpoints (/_fake/stats, /_fake/last) for one instance."""

    def __init__(self, url: str, instance: str):
        self.url = url
        self.instance = instance

    def stats(self) -> dict:
        r = requests.get(f"{self.url}/_fake/stats/{self.instance}", timeout=HTTP_TIMEOUT_S)
        r.raise_for_status()
        return r.json()

    def chat_requests(self) -> int:
        return int(self.stats().get("by_path", {}).get("/v1/chat/completions", 0))

    def last(self) -> dict:
        """The last request the instance received; its "body" is decoded from JSON when possible."""
        r = requests.get(f"{self.url}/_fake/last/{self.instance}", timeout=HTTP_TIMEOUT_S)
        r.raise_for_status()
        last = r.json()
        body = last.get("body")
        if isinstance(body, str) and body:
            try:
                last["body"] = json.loads(body)
            except ValueError:
                pass
        return last


@pytest.fixture
def fake(e2e) -> FakeUpstream:
    assert e2e.fake_url is not None  # tests using this are marked needs_fake_url
    return FakeUpstream(e2e.fake_url, e2e.fake_instance)


@pytest.fixture
def upstream_fake(e2e, upstream) -> FakeUpstream:
    """The fake instance behind the `upstream` dialect's channel (tests using it: needs_fake_url)."""
    assert e2e.fake_url is not None
    if upstream not in e2e.fake_instances:
        pytest.skip(f"ROUTEALL_E2E_FAKE_INSTANCES names no fake instance for upstream {upstream!r}")
    return FakeUpstream(e2e.fake_url, e2e.fake_instances[upstream])


# --- clients of the other dialects' official SDKs (same gateway, same key) ---------------------


def make_anthropic_client(e2e: E2EConfig, api_key: str | None = None):
    import anthropic

    # The SDK appends /v1/messages to base_url. No retries (see make_client).
    return anthropic.Anthropic(
        base_url=e2e.base_url,
        api_key=api_key if api_key is not None else e2e.api_key,
        max_retries=0,
        timeout=HTTP_TIMEOUT_S,
    )


def make_genai_client(e2e: E2EConfig, api_key: str | None = None):
    from google import genai
    from google.genai import types

    # The SDK calls {base_url}/v1beta/models/{model}:generateContent with x-goog-api-key.
    return genai.Client(
        api_key=api_key if api_key is not None else e2e.api_key,
        http_options=types.HttpOptions(
            base_url=e2e.base_url + "/",
            api_version="v1beta",
            timeout=int(HTTP_TIMEOUT_S * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )


@pytest.fixture(scope="session")
def anthropic_client(e2e):
    c = make_anthropic_client(e2e)
    yield c
    c.close()


@pytest.fixture(scope="session")
def genai_client(e2e):
    c = make_genai_client(e2e)
    yield c
    c.close()
