// Peer for HuggingFaceTokenizerTests: encodes and decodes a list of texts with @huggingface/transformers.
// stdin:  {"models": [{"name": "llama3", "folder": "/abs/path/with/tokenizer.json"}], "texts": ["..."]}
// stdout: {"llama3": {"ids": [[...]], "idsWithoutSpecial": [[...]], "decoded": ["..."]}}
// Runs offline: the tokenizer is read from the given folder, never fetched.
import path from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));

env.allowRemoteModels = false;
env.allowLocalModels = true;

const result = {};
for (const model of request.models) {
  // from_pretrained resolves a model id under localModelPath; the folder's parent is that root.
  env.localModelPath = path.dirname(model.folder) + path.sep;
  const tokenizer = await AutoTokenizer.from_pretrained(path.basename(model.folder));
  const ids = [];
  const idsWithoutSpecial = [];
  const decoded = [];
  for (const text of request.texts) {
    const withSpecial = tokenizer.encode(text);
    ids.push(withSpecial);
    const plain = tokenizer.encode(text, { add_special_tokens: false });
    idsWithoutSpecial.push(plain);
    // decode() rejects an empty list; the text of no tokens is empty.
    decoded.push(plain.length === 0 ? '' : tokenizer.decode(plain, { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
  }
  result[model.name] = { ids, idsWithoutSpecial, decoded };
}
process.stdout.write(JSON.stringify(result));
