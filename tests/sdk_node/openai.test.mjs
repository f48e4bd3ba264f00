// Conformance of RouteAll's OpenAI-compatible API with the official `openai` npm SDK.
// Run: node --test tests/sdk_node/   (configuration: see helpers.mjs)
// The core tests (plain, streaming, tools) run once per upstream dialect (upstreamTest).
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { e2eTest, echoOf, marker, upstreamTest, words } from './helpers.mjs';

const SYSTEM = 'You are a terse assistant.';
const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather for a location',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string', description: 'City name' } },
      required: ['location'],
    },
  },
};

// No SDK retries: a retried request would hide gateway errors.
const client = (cfg, apiKey = cfg.apiKey) => new OpenAI({ baseURL: cfg.apiBase, apiKey, maxRetries: 0, timeout: 30_000 });
const conversation = (user) => [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: user },
];
const collect = async (stream) => {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.ok(chunks.length > 0, 'stream produced no chunks');
  return chunks;
};
const streamedText = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
const usageOf = (u) => [u.prompt_tokens, u.completion_tokens, u.total_tokens];

upstreamTest('plain chat completion', async (t, cfg, model) => {
  const user = `Say hello to the conformance suite ${marker()}`;
  const messages = conversation(user);
  const resp = await client(cfg).chat.completions.create({ model: model, messages });
  assert.equal(resp.object, 'chat.completion');
  assert.equal(resp.model, model, 'response model must be the model the client asked for');
  assert.equal(resp.choices.length, 1);
  const choice = resp.choices[0];
  assert.equal(choice.message.role, 'assistant');
  assert.ok(choice.message.content.includes(echoOf(user)), choice.message.content);
  assert.equal(choice.finish_reason, 'stop');
  const u = resp.usage;
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  assert.equal(u.prompt_tokens, messages.reduce((n, m) => n + words(m.content) + 3, 0));
  assert.equal(u.completion_tokens, words(choice.message.content));
});

upstreamTest('streaming with include_usage ends with one usage chunk matching the non-stream call', async (t, cfg, model) => {
  const user = `Stream this sentence back please ${marker()}`;
  const messages = conversation(user);
  const c = client(cfg);
  const plain = await c.chat.completions.create({ model: model, messages });
  const chunks = await collect(
    await c.chat.completions.create({ model: model, messages, stream: true, stream_options: { include_usage: true } }),
  );
  for (const ch of chunks) {
    assert.equal(ch.object, 'chat.completion.chunk');
    assert.equal(ch.model, model);
  }
  const usageChunks = chunks.filter((ch) => ch.usage != null);
  assert.equal(usageChunks.length, 1, 'exactly one chunk carries usage');
  assert.equal(usageChunks[0], chunks.at(-1), 'the usage chunk is the last chunk');
  assert.deepEqual(chunks.filter((ch) => ch.choices.length === 0), usageChunks);
  assert.deepEqual(chunks.flatMap((ch) => ch.choices.map((x) => x.finish_reason).filter(Boolean)), ['stop']);
  assert.equal(streamedText(chunks), plain.choices[0].message.content);
  assert.deepEqual(usageOf(usageChunks[0].usage), usageOf(plain.usage));
});

e2eTest('streaming without include_usage has no usage', async (t, cfg) => {
  const user = `No usage in this stream ${marker()}`;
  const chunks = await collect(await client(cfg).chat.completions.create({ model: cfg.model, messages: conversation(user), stream: true }));
  assert.deepEqual(chunks.filter((ch) => ch.usage != null), []);
  assert.ok(streamedText(chunks).includes(echoOf(user)));
});

upstreamTest('tool call round trip', async (t, cfg, model) => {
  const c = client(cfg);
  const messages = [{ role: 'user', content: `What is the weather like? ${marker()}` }];
  const resp = await c.chat.completions.create({ model: model, messages, tools: [WEATHER_TOOL] });
  const choice = resp.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.ok(call.id);
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { location: 'test' });

  const toolResult = 'Sunny and 22 degrees in test';
  messages.push(
    { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: call.function }] },
    { role: 'tool', tool_call_id: call.id, content: toolResult },
  );
  const final = await c.chat.completions.create({ model: model, messages, tools: [WEATHER_TOOL] });
  assert.equal(final.choices[0].finish_reason, 'stop');
  assert.ok(final.choices[0].message.content.includes(toolResult), final.choices[0].message.content);
});

upstreamTest('tool call arguments reassembled from stream deltas', async (t, cfg, model) => {
  const messages = [{ role: 'user', content: `Weather please ${marker()}` }];
  const chunks = await collect(
    await client(cfg).chat.completions.create({ model: model, messages, tools: [WEATHER_TOOL], stream: true }),
  );
  const calls = new Map();
  const finishes = [];
  for (const ch of chunks) {
    for (const choice of ch.choices) {
      if (choice.finish_reason) finishes.push(choice.finish_reason);
      for (const tc of choice.delta.tool_calls ?? []) {
        const acc = calls.get(tc.index) ?? { id: null, name: '', args: '' };
        if (tc.id) acc.id = tc.id;
        acc.name += tc.function?.name ?? '';
        acc.args += tc.function?.arguments ?? '';
        calls.set(tc.index, acc);
      }
    }
  }
  assert.deepEqual(finishes, ['tool_calls']);
  assert.deepEqual([...calls.keys()], [0]);
  assert.ok(calls.get(0).id);
  assert.equal(calls.get(0).name, 'get_weather');
  assert.deepEqual(JSON.parse(calls.get(0).args), { location: 'test' });
});

e2eTest('models.list contains the model', async (t, cfg) => {
  const ids = [];
  for await (const m of client(cfg).models.list()) ids.push(m.id);
  assert.ok(ids.includes(cfg.model), `${cfg.model} not in ${JSON.stringify(ids)}`);
});

e2eTest('bad API key is OpenAI.AuthenticationError 401', { gatewayOnly: true }, async (t, cfg) => {
  const bad = client(cfg, 'sk-ra-invalid-conformance-key-0000000000000000');
  await assert.rejects(bad.chat.completions.create({ model: cfg.model, messages: conversation('hello') }), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError, `expected AuthenticationError, got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 401);
    assert.equal(typeof err.error?.message, 'string', `error envelope lacks error.message: ${JSON.stringify(err.error)}`);
    assert.ok(err.error.message.length > 0);
    assert.equal(typeof err.error?.type, 'string', `error envelope lacks error.type: ${JSON.stringify(err.error)}`);
    return true;
  });
});
