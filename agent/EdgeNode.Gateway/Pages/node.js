// Shared by the dashboard and chat pages: the API key and reading a Server-Sent Events stream over fetch.
// fetch rather than EventSource, because EventSource cannot send an Authorization header.
"use strict";

const edgenode = (() => {
  const storageKey = "edgenode-api-key";

  // A key given as "#key=..." (the fragment never reaches the server or its logs) is kept for this tab.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("key")) {
    sessionStorage.setItem(storageKey, fragment.get("key"));
    history.replaceState(null, "", location.pathname + location.search);
  }

  function headers(extra) {
    const all = Object.assign({}, extra);
    const key = sessionStorage.getItem(storageKey);
    if (key) all.Authorization = "Bearer " + key;
    return all;
  }

  // Shows the key form; resolves once the user has entered a key.
  function askForKey(message) {
    const form = document.getElementById("key-form");
    document.getElementById("key-message").textContent = message;
    form.hidden = false;
    return new Promise(resolve => {
      form.onsubmit = event => {
        event.preventDefault();
        sessionStorage.setItem(storageKey, document.getElementById("key-input").value.trim());
        form.hidden = true;
        resolve();
      };
    });
  }

  // fetch that asks for the key and tries again while the node answers 401.
  async function request(url, options) {
    for (;;) {
      const response = await fetch(url, Object.assign({}, options, { headers: headers(options && options.headers) }));
      if (response.status !== 401) return response;
      const body = await response.json().catch(() => ({}));
      await askForKey((body.error && body.error.message) || "This node needs an API key.");
    }
  }

  // Calls onData with each event's data (the text after "data: ") until the stream ends.
  async function readEvents(response, onData) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        for (const line of event.split("\n"))
          if (line.startsWith("data: ")) onData(line.slice(6));
      }
    }
  }

  async function errorText(response) {
    const body = await response.json().catch(() => null);
    return (body && body.error && body.error.message) || ("HTTP " + response.status);
  }

  return { request, readEvents, errorText };
})();
