// Peer for UnicodeNormalizerTests: String.prototype.normalize (node's ICU) on a list of texts and on a sweep of
// code points, each followed by every given suffix.
// stdin:  {"texts": ["..."], "ranges": [[first, last], ...], "suffixes": ["", "\u0301", ...]}
// stdout: {"unicode": "15.1", "texts": [["NFC", "NFD", "NFKC", "NFKD"], ...],
//          "changed": [[codePoint, suffixIndex, formIndex, "result"], ...]}   (only sweep entries the form changes)
const forms = ['NFC', 'NFD', 'NFKC', 'NFKD'];

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const texts = request.texts.map(text => forms.map(form => text.normalize(form)));
const changed = [];
for (const [first, last] of request.ranges) {
  for (let codePoint = first; codePoint <= last; codePoint++) {
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
    const character = String.fromCodePoint(codePoint);
    request.suffixes.forEach((suffix, suffixIndex) => {
      const text = character + suffix;
      forms.forEach((form, formIndex) => {
        const result = text.normalize(form);
        if (result !== text) changed.push([codePoint, suffixIndex, formIndex, result]);
      });
    });
  }
}
process.stdout.write(JSON.stringify({ unicode: process.versions.unicode ?? '', texts, changed }));
