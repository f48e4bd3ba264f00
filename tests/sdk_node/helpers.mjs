// Shared configuration for the Node SDK conformance tests (official npm SDKs -> RouteAll).
//
// Environment (set by scripts/test), same contract as tests/sdk/conftest.py:
//   ROUTEALL_E2E_BASE_URL       gateway root, e.g. http://127.0.0.1:18080 (SDK baseURL = that + /v1)
//   ROUTEALL_E2E_API_KEY        a valid sk-ra-... key with balance
//   ROUTEALL_E2E_MODEL          canonical model routed to an OpenAI-format fake channel
//   ROUTEALL_E2E_FAKE_URL       fake upstream root (optional), ROUTEALL_E2E_FAKE_INSTANCE (default "default")
//   ROUTEALL_E2E_DIRECT_FAKE=1  BASE_URL is the fake itself: gateway-only tests are skipped
//   ROUTEALL_E2E_MODELS_BY_UPSTREAM  optional JSON {"openai": model, "anthropic": model, "gemini": model}:
//                               upstreamTest() registers one test per entry; unset -> {"openai": ROUTEALL_E2E_MODEL}
//   ROUTEALL_TEST_REQUIRE_INTEGRATION=1  a missing ROUTEALL_E2E_BASE_URL fails instead of skipping
import { test } from 'node:test';

const env = (name) => (process.env[name] ?? '').trim() || null;
const truthy = (name) => ['1', 'true', 'yes', 'on'].includes((process.env[name] ?? '').trim().toLowerCase());

function loadConfig() {
  const base = env('ROUTEALL_E2E_BASE_URL');
  if (!base) return { problem: 'ROUTEALL_E2E_BASE_URL is not set (no RouteAll gateway to test against)' };
  const missing = ['ROUTEALL_E2E_API_KEY', 'ROUTEALL_E2E_MODEL'].filter((n) => !env(n));
  if (missing.length) return { problem: `ROUTEALL_E2E_BASE_URL is set but ${missing.join(', ')} is not` };
  const baseURL = base.replace(/\/+$/, '');
  let modelsByUpstream = { openai: env('ROUTEALL_E2E_MODEL') };
  const rawByUpstream = env('ROUTEALL_E2E_MODELS_BY_UPSTREAM');
  if (rawByUpstream) {
    let parsed;
    try {
      parsed = JSON.parse(rawByUpstream);
    } catch (e) {
      return { problem: `ROUTEALL_E2E_MODELS_BY_UPSTREAM is not JSON: ${e.message}` };
    }
    const ok = parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.keys(parsed).length > 0 &&
      Object.values(parsed).every((v) => typeof v === 'string' && v);
    if (!ok) return { problem: `ROUTEALL_E2E_MODELS_BY_UPSTREAM must be a non-empty JSON object of strings, got ${rawByUpstream}` };
    modelsByUpstream = parsed;
  }
  return {
    baseURL,
    apiBase: `${baseURL}/v1`,
    apiKey: env('ROUTEALL_E2E_API_KEY'),
    model: env('ROUTEALL_E2E_MODEL'),
    fakeURL: env('ROUTEALL_E2E_FAKE_URL')?.replace(/\/+$/, '') ?? null,
    fakeInstance: env('ROUTEALL_E2E_FAKE_INSTANCE') ?? 'default',
    directFake: truthy('ROUTEALL_E2E_DIRECT_FAKE'),
    modelsByUpstream,
  };
}

export const cfg = loadConfig();
const requireIntegration = truthy('ROUTEALL_TEST_REQUIRE_INTEGRATION');

/**
 * Registers a node:test test that needs the gateway. Skips it with a reason when the environment
 * is missing (or fails it when ROUTEALL_TEST_REQUIRE_INTEGRATION=1), and skips gateway-only tests
 * when talking to the fake upstream directly.
 *   e2eTest(name, fn) / e2eTest(name, { gatewayOnly: true }, fn); fn receives (t, cfg).
 */
export function e2eTest(name, opts, fn) {
  if (typeof opts === 'function') [fn, opts] = [opts, {}];
  if (cfg.problem) {
    if (requireIntegration) {
      return test(name, () => {
        throw new Error(`ROUTEALL_TEST_REQUIRE_INTEGRATION=1 but ${cfg.problem}`);
      });
    }
    return test(name, { skip: cfg.problem }, () => {});
  }
  if (opts.gatewayOnly && cfg.directFake) {
    return test(name, { skip: 'gateway-only: ROUTEALL_E2E_DIRECT_FAKE=1 (talking to the fake upstream directly)' }, () => {});
  }
  return test(name, { timeout: 60_000 }, (t) => fn(t, cfg));
}

/**
 * Registers `name [upstream U]` once per upstream dialect (ROUTEALL_E2E_MODELS_BY_UPSTREAM) with
 * e2eTest's skip/fail rules; fn receives (t, cfg, model, upstream), model routed to a U channel.
 *   upstreamTest(name, fn) / upstreamTest(name, { gatewayOnly: true }, fn)
 */
export function upstreamTest(name, opts, fn) {
  if (typeof opts === 'function') [fn, opts] = [opts, {}];
  const entries = cfg.problem ? [['openai', null]] : Object.entries(cfg.modelsByUpstream);
  for (const [upstream, model] of entries) {
    e2eTest(`${name} [upstream ${upstream}]`, opts, (t, c) => fn(t, c, model, upstream));
  }
}

/** Words of a text: the fake upstream's token unit. */
export const words = (text) => text.split(/\s+/).filter(Boolean).length;

/** The part of the fake's reply that echoes the user's text (directives removed). */
export const echoOf = (userText) => 'You said: ' + userText.replace(/\[\[fake[^\]]*\]\]/g, '').split(/\s+/).filter(Boolean).join(' ');

/** A unique word to tell one test's request apart. */
export const marker = () => 'mk' + Math.random().toString(16).slice(2, 14).padEnd(12, '0');
