// Conformance of RouteAll's Gemini generateContent API with the official `@google/genai` npm SDK.
// Every test runs once per upstream dialect (ROUTEALL_E2E_MODELS_BY_UPSTREAM; see helpers.mjs):
// a Gemini client must reach OpenAI, Anthropic and Gemini providers alike.
import assert from 'node:assert/strict';
import { ApiError, FinishReason, GoogleGenAI } from '@google/genai';
import { echoOf, marker, upstreamTest, words } from './helpers.mjs';

const SYSTEM = 'You are a terse assistant.';
const WEATHER_FN = {
  name: 'get_weather',
  description: 'Get the current weather for a location',
  parametersJsonSchema: {
    type: 'object',
    properties: { location: { type: 'string', description: 'City name' } },
    required: ['location'],
  },
};

// The SDK calls {baseUrl}/v1beta/models/{model}:generateContent with x-goog-api-key; no retryOptions = no retries.
const client = (cfg, apiKey = cfg.apiKey) =>
  new GoogleGenAI({ apiKey, httpOptions: { baseUrl: cfg.baseURL, apiVersion: 'v1beta', timeout: 30_000 } });
const promptTokens = (user) => words(SYSTEM) + 3 + words(user) + 3;
const partsOf = (resp) => resp.candidates?.[0]?.content?.parts ?? [];
const visibleText = (resp) => partsOf(resp).filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');

upstreamTest('genai: plain generateContent', async (t, cfg, model) => {
  const user = `Say hello to the conformance suite ${marker()}`;
  const resp = await client(cfg).models.generateContent({ model, contents: user, config: { systemInstruction: SYSTEM } });
  assert.equal(resp.candidates.length, 1);
  assert.equal(resp.candidates[0].content.role, 'model');
  assert.ok(resp.text.includes(echoOf(user)), resp.text);
  assert.equal(resp.candidates[0].finishReason, FinishReason.STOP);
  assert.equal(resp.modelVersion, model);
  const um = resp.usageMetadata;
  assert.equal(um.promptTokenCount, promptTokens(user));
  assert.equal(um.candidatesTokenCount, words(resp.text));
  assert.equal(um.totalTokenCount, um.promptTokenCount + um.candidatesTokenCount);
});

upstreamTest('genai: generateContentStream chunks concatenate to the non-stream text', async (t, cfg, model) => {
  const user = `Stream this sentence back please ${marker()}`;
  const params = { model, contents: user, config: { systemInstruction: SYSTEM } };
  const c = client(cfg);
  const plain = await c.models.generateContent(params);
  const chunks = [];
  for await (const ch of await c.models.generateContentStream(params)) chunks.push(ch);
  assert.ok(chunks.length > 1, 'the answer should arrive in several chunks');
  assert.equal(chunks.map(visibleText).join(''), plain.text);
  const finishes = chunks.map((ch) => ch.candidates?.[0]?.finishReason).filter(Boolean);
  assert.deepEqual(finishes, [FinishReason.STOP]);
  const last = chunks.at(-1);
  assert.equal(last.candidates[0].finishReason, FinishReason.STOP);
  assert.ok(last.usageMetadata, 'the last chunk carries the complete usage');
  assert.deepEqual(
    [last.usageMetadata.promptTokenCount, last.usageMetadata.candidatesTokenCount, last.usageMetadata.totalTokenCount],
    [plain.usageMetadata.promptTokenCount, plain.usageMetadata.candidatesTokenCount, plain.usageMetadata.totalTokenCount],
  );
});

upstreamTest('genai: function call round trip', async (t, cfg, model) => {
  const c = client(cfg);
  const config = { systemInstruction: SYSTEM, tools: [{ functionDeclarations: [WEATHER_FN] }] };
  const user = { role: 'user', parts: [{ text: `What is the weather like? ${marker()}` }] };
  const resp = await c.models.generateContent({ model, contents: [user], config });
  assert.equal(resp.candidates[0].finishReason, FinishReason.STOP);
  const calls = resp.functionCalls ?? [];
  assert.equal(calls.length, 1, JSON.stringify(resp.candidates[0].content));
  assert.equal(calls[0].name, 'get_weather');
  assert.deepEqual(calls[0].args, { location: 'test' });

  const toolResult = 'Sunny and 22 degrees in test';
  const contents = [
    user,
    resp.candidates[0].content,
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { result: toolResult } } }] },
  ];
  const final = await c.models.generateContent({ model, contents, config });
  assert.equal(final.candidates[0].finishReason, FinishReason.STOP);
  assert.equal(final.functionCalls, undefined);
  assert.ok(final.text.includes(toolResult), final.text);
});

upstreamTest('genai: bad API key is ApiError 401', { gatewayOnly: true }, async (t, cfg, model) => {
  const bad = client(cfg, 'sk-ra-invalid-conformance-key-0000000000000000');
  await assert.rejects(bad.models.generateContent({ model, contents: 'hello' }), (err) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 401);
    assert.match(err.message, /UNAUTHENTICATED/);
    return true;
  });
});
