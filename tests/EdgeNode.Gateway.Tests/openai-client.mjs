// Drives `edgenode serve` with the official openai npm client. Reads {baseURL, apiKey, steps: [...]} on stdin and
// prints one JSON array: for each step either {ok: true, ...what came back} or {ok: false, status, error: {...}}.
// A step is {op: "models" | "completion" | "chat", stream?, params?, apiKey?, rawBody?}; rawBody replaces the JSON
// the client would send, so a malformed body still goes through the client's own error handling.
import OpenAI from 'openai';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
}));

function clientFor(step) {
  return new OpenAI({
    baseURL: input.baseURL,
    apiKey: step.apiKey ?? input.apiKey,
    maxRetries: 0,
    timeout: 120_000,
    fetch: step.rawBody === undefined ? undefined : (url, init) => fetch(url, { ...init, body: step.rawBody }),
  });
}

async function run(step) {
  if (step.op === 'parallel') {
    // Sent at once, to see the node queue them and answer each.
    const answers = await Promise.all(step.steps.map((inner) => run(inner).then((r) => ({ ok: true, ...r }), (e) => failure(e))));
    return { answers };
  }
  const client = clientFor(step);
  if (step.op === 'models') {
    const page = await client.models.list();
    return { models: page.data };
  }
  const api = step.op === 'chat' ? client.chat.completions : client.completions;
  if (!step.stream) {
    return { response: await api.create(step.params) };
  }
  const stream = await api.create({ ...step.params, stream: true });
  let text = '';
  let finishReason = null;
  let usage = null;
  let chunks = 0;
  let role = null;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += step.op === 'chat' ? (choice.delta?.content ?? '') : choice.text;
      role ??= choice.delta?.role ?? null;
      finishReason = choice.finish_reason ?? finishReason;
    }
  }
  return { text, finishReason, usage, chunks, role };
}

function failure(e) {
  if (e instanceof OpenAI.APIError) {
    return {
      ok: false, status: e.status ?? null, kind: e.constructor.name,
      error: { message: e.error?.message ?? e.message, type: e.type ?? null, param: e.param ?? null, code: e.code ?? null },
    };
  }
  return { ok: false, status: null, kind: e?.constructor?.name ?? 'Error', error: { message: String(e?.message ?? e) } };
}

const results = [];
for (const step of input.steps) {
  try {
    results.push({ ok: true, ...(await run(step)) });
  } catch (e) {
    results.push(failure(e));
  }
}
process.stdout.write(JSON.stringify(results));
