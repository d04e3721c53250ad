// Peer for ChatTemplateTests: renders conversations with each model folder's own chat_template through
// @huggingface/jinja, tokenizes them with @huggingface/transformers' apply_chat_template, and encodes extra texts
// (for formats whose template file is not available here) without special tokens, or with them where the format
// leaves BOS to the tokenizer.
// stdin:  {"models": [{"name": "qwen3", "folder": "/abs/folder"}],
//          "cases": [{"messages": [{"role": "user", "content": "hi"}], "addGenerationPrompt": true, "enableThinking": false}],
//          "encode": [{"model": "llama2", "text": "<s>[INST] hi [/INST]", "addSpecialTokens": false}]}
// stdout: {"rendered": {"qwen3": [{"text": "...", "ids": [...]} or {"error": "..."}]}, "encoded": [[...]]}
// Runs offline: files are read from the given folders, never fetched.
import fs from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import { AutoTokenizer, env } from '@huggingface/transformers';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));

env.allowRemoteModels = false;
env.allowLocalModels = true;

const tokenText = value => (value && typeof value === 'object' ? value.content : value) ?? undefined;

async function load(folder) {
  env.localModelPath = path.dirname(folder) + path.sep;
  return AutoTokenizer.from_pretrained(path.basename(folder));
}

const tokenizers = {};
const rendered = {};
for (const model of request.models) {
  tokenizers[model.name] = await load(model.folder);
  const config = JSON.parse(fs.readFileSync(path.join(model.folder, 'tokenizer_config.json'), 'utf8'));
  if (typeof config.chat_template !== 'string') continue;
  const template = new Template(config.chat_template);
  rendered[model.name] = request.cases.map(c => {
    const variables = {
      messages: c.messages,
      add_generation_prompt: c.addGenerationPrompt,
      bos_token: tokenText(config.bos_token),
      eos_token: tokenText(config.eos_token),
    };
    // Qwen3's template tests "enable_thinking is defined and enable_thinking is false".
    if (!c.enableThinking) variables.enable_thinking = false;
    try {
      const text = template.render(variables);
      const ids = tokenizers[model.name].apply_chat_template(c.messages, {
        add_generation_prompt: c.addGenerationPrompt,
        tokenize: true,
        return_tensor: false,
        return_dict: false,
        ...(c.enableThinking ? {} : { enable_thinking: false }),
      });
      return { text, ids };
    } catch (e) {
      return { error: String(e.message ?? e) };
    }
  });
}
const encoded = (request.encode ?? []).map(e => tokenizers[e.model].encode(e.text, { add_special_tokens: e.addSpecialTokens ?? false }));
process.stdout.write(JSON.stringify({ rendered, encoded }));
