// Runs a greedy decode in llama.cpp (through node-llama-cpp) from a list of token ids and prints one JSON line.
//
//   node node-llama-cpp-peer.mjs --model F.gguf --prompt-tokens 1,403,407 --max-tokens N --threads T
//        [--context N] [--node-modules DIR]
//
// Token ids go in, not text, so that both sides of a comparison see the very same prompt: a second
// tokenizer would be a second source of differences. Sampling is plain argmax (temperature 0, no
// repeat penalty, no top-k/top-p), the only sampling the goldens use.
//
// The prebuilt CPU binary that npm put in node_modules is the only llama.cpp allowed here: build
// "never" and skipDownload stop node-llama-cpp from compiling or fetching one at run time, which a
// machine without network beyond the registries could not do anyway, and gpu false keeps the CUDA
// and Vulkan variants from being probed.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";

const BOS = 1;

function fail(message) {
  process.stderr.write(`node-llama-cpp-peer: ${message}\n`);
  process.exit(2);
}

function parseArguments(argv) {
  const options = { context: 0, nodeModules: process.env.EDGENODE_NODE_MODULES ?? "" };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    const needValue = () => {
      if (value === undefined) fail(`${name} needs a value`);
      i++;
      return value;
    };
    switch (name) {
      case "--model": options.model = needValue(); break;
      case "--prompt-tokens": options.promptTokens = needValue(); break;
      case "--max-tokens": options.maxTokens = needValue(); break;
      case "--threads": options.threads = needValue(); break;
      case "--context": options.context = needValue(); break;
      case "--node-modules": options.nodeModules = needValue(); break;
      default: fail(`unknown argument '${name}'`);
    }
  }
  if (!options.model) fail("--model is required");
  if (!existsSync(options.model)) fail(`model file not found: ${options.model}`);
  if (options.promptTokens === undefined) fail("--prompt-tokens is required (comma-separated token ids)");
  const promptTokens = options.promptTokens.split(",").filter(s => s.trim() !== "").map(s => {
    const id = Number(s);
    if (!Number.isInteger(id) || id < 0) fail(`--prompt-tokens: '${s}' is not a token id`);
    return id;
  });
  if (promptTokens.length === 0) fail("--prompt-tokens is empty: give at least BOS (1)");
  const positiveInteger = (label, text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) fail(`${label}: '${text}' is not a non-negative integer`);
    return n;
  };
  return {
    model: resolve(options.model),
    promptTokens,
    maxTokens: positiveInteger("--max-tokens", options.maxTokens ?? "128"),
    threads: Math.max(1, positiveInteger("--threads", options.threads ?? "1")),
    context: positiveInteger("--context", String(options.context)),
    nodeModules: options.nodeModules,
  };
}

// node_modules is passed in by the caller (the script is copied beside the agent binary, far from the
// repository's node_modules); without it, look upward from the script like Node's own resolution would.
function findNodeLlamaCpp(nodeModules) {
  const candidates = [];
  if (nodeModules) candidates.push(join(nodeModules, "node-llama-cpp"));
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    candidates.push(join(dir, "node_modules", "node-llama-cpp"));
    if (dirname(dir) === dir) break;
  }
  for (const candidate of candidates) {
    const entry = join(candidate, "dist", "index.js");
    if (existsSync(entry)) return { entry, packageDir: candidate };
  }
  fail("node-llama-cpp not installed: run `bash ci/install`");
}

const options = parseArguments(process.argv.slice(2));
const { entry, packageDir } = findNodeLlamaCpp(options.nodeModules);
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const { readFile } = await import("node:fs/promises");
const nodeLlamaCppVersion = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")).version;

const llama = await getLlama({
  gpu: false,
  build: "never",
  usePrebuiltBinaries: true,
  skipDownload: true,
  progressLogs: false,
  logLevel: LlamaLogLevel.error,
  maxThreads: options.threads,
});
const model = await llama.loadModel({ modelPath: options.model, gpuLayers: 0 });

// EOS comes from the model's own metadata; BOS is checked separately because the llama2.c reference
// stops there (its models end a story by starting the next one).
const eos = model.tokens.eos;
const needed = options.promptTokens.length + options.maxTokens;
const contextSize = options.context > 0 ? options.context : Math.min(model.trainContextSize, Math.max(needed, 16));
if (needed > contextSize)
  fail(`prompt (${options.promptTokens.length}) + max-tokens (${options.maxTokens}) exceeds the context (${contextSize}); `
    + "a context shift would change the results");

const requestStart = performance.now();
const context = await model.createContext({
  contextSize,
  batchSize: Math.max(options.promptTokens.length, 1),
  threads: { ideal: options.threads, min: options.threads },
  sequences: 1,
});
const sequence = context.getSequence();
const greedy = { temperature: 0 };

const tokens = [];
let prefillMs = 0;
let ttftMs = 0;
let decodeMs = 0;

if (options.maxTokens > 0) {
  // The whole prompt goes in one batch; only the last position asks for a sampled token, so this
  // call is the prefill and the first token together.
  const input = options.promptTokens.map((token, index) =>
    index === options.promptTokens.length - 1 ? [token, { generateNext: { token: true, options: greedy } }] : token);
  const prefillStart = performance.now();
  const outputs = await sequence.controlledEvaluate(input);
  const firstDone = performance.now();
  prefillMs = firstDone - prefillStart;
  ttftMs = firstDone - requestStart;
  const first = outputs[outputs.length - 1]?.next?.token;
  if (first === undefined || first === null) fail("llama.cpp gave no token after the prompt");

  if (first !== BOS && first !== eos) {
    tokens.push(first);
    const decodeStart = performance.now();
    if (tokens.length < options.maxTokens) {
      for await (const token of sequence.evaluate([first], { ...greedy, yieldEogToken: true })) {
        if (token === BOS || token === eos) break;
        tokens.push(token);
        if (tokens.length >= options.maxTokens) break;
      }
    }
    decodeMs = performance.now() - decodeStart;
  }
}

const round = (value, digits) => Number(value.toFixed(digits));
const decodedAfterFirst = Math.max(tokens.length - 1, 0);
const release = llama.llamaCppRelease;
process.stdout.write(JSON.stringify({
  tokens,
  prompt_tokens: options.promptTokens.length,
  prefill_ms: round(prefillMs, 3),
  ttft_ms: round(ttftMs, 3),
  decode_tok_s: decodedAfterFirst > 0 && decodeMs > 0 ? round(decodedAfterFirst * 1000 / decodeMs, 2) : 0,
  prefill_tok_s: prefillMs > 0 ? round(options.promptTokens.length * 1000 / prefillMs, 2) : 0,
  threads: options.threads,
  llama_cpp: `node-llama-cpp ${nodeLlamaCppVersion}, llama.cpp ${release.repo} ${release.release}, ${llama.buildType}`,
}) + "\n");

await context.dispose();
await model.dispose();
await llama.dispose();
