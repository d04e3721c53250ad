"use strict";

// URL parameters preset the form: ?prompt=...&model=...&temperature=0&max_tokens=32&mode=complete&autosend=1
(() => {
  const $ = id => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const conversation = [];

  function addMessage(role, text) {
    const div = document.createElement("div");
    div.className = "message " + role;
    div.textContent = text;
    $("transcript").appendChild(div);
    return div;
  }

  async function loadModels() {
    const response = await edgenode.request("/v1/models");
    if (!response.ok) throw new Error(await edgenode.errorText(response));
    const models = (await response.json()).data.map(m => m.id);
    $("model").replaceChildren(...models.map(id => new Option(id, id)));
    if (params.get("model") && models.includes(params.get("model"))) $("model").value = params.get("model");
  }

  async function send() {
    const prompt = $("prompt").value;
    if (!prompt) return;
    const complete = $("continue-text").checked;
    const body = { model: $("model").value, stream: true, temperature: Number($("temperature").value), max_tokens: Number($("max-tokens").value) };
    if (complete) {
      body.prompt = prompt;
    } else {
      conversation.push({ role: "user", content: prompt });
      body.messages = conversation.slice();
    }
    addMessage("user", prompt);
    $("prompt").value = "";
    const answer = addMessage("assistant", "");
    $("send").disabled = true;
    $("status").textContent = "generating…";
    try {
      const response = await edgenode.request(complete ? "/v1/completions" : "/v1/chat/completions", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(await edgenode.errorText(response));
      await edgenode.readEvents(response, data => {
        if (data === "[DONE]") return;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const choice = chunk.choices && chunk.choices[0];
        const piece = choice && (complete ? choice.text : choice.delta && choice.delta.content);
        if (piece) answer.textContent += piece;
      });
      if (!complete) conversation.push({ role: "assistant", content: answer.textContent });
      $("status").textContent = "done";
    } catch (e) {
      answer.classList.add("error");
      answer.textContent += (answer.textContent ? "\n" : "") + e.message;
      $("status").textContent = "failed";
      if (!complete) conversation.pop();
    } finally {
      $("send").disabled = false;
    }
  }

  $("prompt-form").onsubmit = event => { event.preventDefault(); send(); };
  if (params.has("prompt")) $("prompt").value = params.get("prompt");
  if (params.has("temperature")) $("temperature").value = params.get("temperature");
  if (params.has("max_tokens")) $("max-tokens").value = params.get("max_tokens");
  $("continue-text").checked = params.get("mode") === "complete";

  loadModels()
    .then(() => { if (params.get("autosend") === "1") return send(); })
    .catch(e => { $("status").textContent = "could not list models: " + e.message; });
})();
