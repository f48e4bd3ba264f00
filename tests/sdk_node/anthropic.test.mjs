// Conformance of RouteAll's Anthropic Messages API with the official `@anthropic-ai/sdk` npm SDK.
// Every test runs once per upstream dialect (ROUTEALL_E2E_MODELS_BY_UPSTREAM; see helpers.mjs):
// an Anthropic client must reach OpenAI, Anthropic and Gemini providers alike.
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { echoOf, marker, upstreamTest, words } from './helpers.mjs';

const SYSTEM = 'You are a terse assistant.';
const MAX_TOKENS = 256;
const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Get the current weather for a location',
  input_schema: {
    type: 'object',
    properties: { location: { type: 'string', description: 'City name' } },
    required: ['location'],
  },
};
const RAW_EVENTS = new Set(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);

// The SDK appends /v1/messages to baseURL. No SDK retries: a retried request would hide gateway errors.
const client = (cfg, apiKey = cfg.apiKey) => new Anthropic({ baseURL: cfg.baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
/** Prompt tokens the fake counts: the system prompt is one message (words + 3). */
const promptTokens = (user) => words(SYSTEM) + 3 + words(user) + 3;
/** All input: Anthropic input_tokens excludes cache reads and writes. */
const fullInput = (u) => u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);
const textOf = (msg) => msg.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

/** Runs a MessageStream to the end: the raw wire events (ping excluded) and the final message. */
async function runStream(stream) {
  const events = [];
  for await (const ev of stream) if (RAW_EVENTS.has(ev.type)) events.push(ev);
  return { events, final: await stream.finalMessage() };
}

/** message_start, per block content_block_start / content_block_delta... / content_block_stop, message_delta, message_stop. */
function assertEventSequence(events, blockTypes) {
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'message_start', types.join(','));
  assert.deepEqual(types.slice(-2), ['message_delta', 'message_stop'], types.join(','));
  const seen = [];
  let i = 1;
  while (i < events.length - 2) {
    assert.equal(types[i], 'content_block_start', `expected content_block_start at ${i}: ${types.join(',')}`);
    const index = events[i].index;
    assert.equal(index, seen.length);
    seen.push(events[i].content_block.type);
    i++;
    let deltas = 0;
    for (; types[i] === 'content_block_delta'; i++, deltas++) assert.equal(events[i].index, index);
    assert.ok(deltas >= 1, `block ${index} has no delta`);
    assert.equal(types[i], 'content_block_stop', `block ${index} not stopped: ${types.join(',')}`);
    assert.equal(events[i].index, index);
    i++;
  }
  assert.deepEqual(seen, blockTypes);
}

upstreamTest('anthropic: plain message', async (t, cfg, model) => {
  const user = `Say hello to the conformance suite ${marker()}`;
  const msg = await client(cfg).messages.create({ model, max_tokens: MAX_TOKENS, system: SYSTEM, messages: [{ role: 'user', content: user }] });
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.equal(msg.model, model, 'response model must be the model the client asked for');
  assert.deepEqual(msg.content.map((b) => b.type), ['text']);
  assert.ok(msg.content[0].text.includes(echoOf(user)), msg.content[0].text);
  assert.equal(msg.stop_reason, 'end_turn');
  assert.equal(fullInput(msg.usage), promptTokens(user));
  assert.equal(msg.usage.output_tokens, words(msg.content[0].text));
});

upstreamTest('anthropic: stream events and text match the non-stream call', async (t, cfg, model) => {
  const user = `Stream this sentence back please ${marker()}`;
  const params = { model, max_tokens: MAX_TOKENS, system: SYSTEM, messages: [{ role: 'user', content: user }] };
  const c = client(cfg);
  const plain = await c.messages.create(params);
  const { events, final } = await runStream(c.messages.stream(params));
  assertEventSequence(events, ['text']);
  assert.equal(events[0].message.model, model);
  const deltas = events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta);
  assert.ok(deltas.every((d) => d.type === 'text_delta'));
  assert.equal(deltas.map((d) => d.text).join(''), textOf(plain));
  assert.equal(events.at(-2).delta.stop_reason, 'end_turn');
  assert.equal(textOf(final), textOf(plain));
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.output_tokens, plain.usage.output_tokens);
  assert.equal(fullInput(final.usage), promptTokens(user));
});

upstreamTest('anthropic: tool use round trip', async (t, cfg, model) => {
  const c = client(cfg);
  const messages = [{ role: 'user', content: `What is the weather like? ${marker()}` }];
  const resp = await c.messages.create({ model, max_tokens: MAX_TOKENS, messages, tools: [WEATHER_TOOL] });
  assert.equal(resp.stop_reason, 'tool_use');
  const uses = resp.content.filter((b) => b.type === 'tool_use');
  assert.equal(uses.length, 1);
  assert.ok(uses[0].id);
  assert.equal(uses[0].name, 'get_weather');
  assert.deepEqual(uses[0].input, { location: 'test' });

  const toolResult = 'Sunny and 22 degrees in test';
  messages.push(
    { role: 'assistant', content: resp.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: toolResult }] },
  );
  const final = await c.messages.create({ model, max_tokens: MAX_TOKENS, messages, tools: [WEATHER_TOOL] });
  assert.equal(final.stop_reason, 'end_turn');
  assert.ok(textOf(final).includes(toolResult), textOf(final));
});

upstreamTest('anthropic: streamed tool use input_json_delta reassembles', async (t, cfg, model) => {
  const messages = [{ role: 'user', content: `Weather please ${marker()}` }];
  const { events, final } = await runStream(client(cfg).messages.stream({ model, max_tokens: MAX_TOKENS, messages, tools: [WEATHER_TOOL] }));
  assertEventSequence(events, ['tool_use']);
  const deltas = events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta);
  assert.ok(deltas.every((d) => d.type === 'input_json_delta'));
  assert.deepEqual(JSON.parse(deltas.map((d) => d.partial_json).join('')), { location: 'test' });
  assert.equal(final.stop_reason, 'tool_use');
  const uses = final.content.filter((b) => b.type === 'tool_use');
  assert.equal(uses.length, 1);
  assert.equal(uses[0].name, 'get_weather');
  assert.deepEqual(uses[0].input, { location: 'test' });
});

upstreamTest('anthropic: bad API key is Anthropic.AuthenticationError 401', { gatewayOnly: true }, async (t, cfg, model) => {
  const bad = client(cfg, 'sk-ra-invalid-conformance-key-0000000000000000');
  await assert.rejects(bad.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] }), (err) => {
    assert.ok(err instanceof Anthropic.AuthenticationError, `expected AuthenticationError, got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 401);
    assert.equal(err.error?.type, 'error', `not an Anthropic error envelope: ${JSON.stringify(err.error)}`);
    assert.equal(err.error?.error?.type, 'authentication_error');
    assert.ok(err.error.error.message);
    return true;
  });
});
