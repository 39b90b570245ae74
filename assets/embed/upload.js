/*
 * <jsoncraft-upload>: JSONCraft's embeddable upload button.
 *
 *   <script src="https://YOUR-JSONCRAFT/embed/upload.js" defer></script>
 *   <jsoncraft-upload api="https://YOUR-JSONCRAFT-API" token-url="/jsoncraft-token"></jsoncraft-upload>
 *
 * The browser never sees a secret key. Before each batch the element asks for a short-lived
 * client token: from `token-url` (your server mints it with POST /api/uploads/client-tokens and
 * your secret key, and answers {"token": "jct_..."}), or from the `token` attribute/property.
 * Then it asks the API for presigned URLs, PUTs each file straight to storage (in parts for big
 * files), and completes each upload so the server checks the stored bytes.
 *
 * Attributes: api (the API's base URL; default: this script's origin), token, token-url, accept
 * (e.g. "image/*,application/pdf"), multiple, label.
 * Events (bubbling, composed): "complete" with detail {uploads: [...]} once a batch is done
 * (each upload with its status: "ready" or "rejected" + reason), and "error" with
 * detail {message} when a batch fails before any upload starts.
 */
(() => {
  "use strict";
  if (customElements.get("jsoncraft-upload")) return;

  const SCRIPT_ORIGIN = (() => {
    try {
      return new URL(document.currentScript.src).origin;
    } catch (_) {
      return window.location.origin;
    }
  })();
  const PART_CONCURRENCY = 3;

  const STYLE = `
    :host { display: block; font: 14px/1.4 system-ui, sans-serif; color: inherit; }
    .zone { border: 2px dashed #9aa4b2; border-radius: 10px; padding: 16px; text-align: center; }
    .zone.over { border-color: #5b5bd6; background: rgba(91, 91, 214, 0.08); }
    button { font: inherit; padding: 8px 14px; border-radius: 8px; border: 0; cursor: pointer;
             background: #5b5bd6; color: #fff; }
    button:disabled { opacity: 0.6; cursor: progress; }
    .hint { margin-top: 6px; opacity: 0.75; font-size: 13px; }
    ul { list-style: none; padding: 0; margin: 10px 0 0; text-align: left; }
    li { margin: 6px 0; }
    .row { display: flex; justify-content: space-between; gap: 8px; }
    .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 60%;
            flex-shrink: 0; }
    .state { text-align: right; }
    progress { width: 100%; height: 8px; }
    .error { color: #ce2c31; }
    .ready { color: #218358; }
  `;

  function humanSize(bytes) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let n = bytes;
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i += 1;
    }
    return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && typeof body.detail === "string") return body.detail;
    } catch (_) {
      /* not JSON: fall through */
    }
    return `The server answered ${response.status}.`;
  }

  // XMLHttpRequest rather than fetch: only it reports upload progress.
  function put(url, body, headers, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (e) => onProgress(e.loaded);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve(xhr.getResponseHeader("ETag"));
        } else {
          let detail = `Storage answered ${xhr.status}.`;
          try {
            const parsed = JSON.parse(xhr.responseText);
            if (parsed && typeof parsed.detail === "string") detail = parsed.detail;
          } catch (_) {
            /* S3 answers XML: keep the status */
          }
          reject(new Error(detail));
        }
      };
      xhr.onerror = () => reject(new Error("The upload was interrupted (network error)."));
      xhr.send(body);
    });
  }

  class JsoncraftUpload extends HTMLElement {
    static get observedAttributes() {
      return ["label", "accept", "multiple"];
    }

    constructor() {
      super();
      this._token = null;
      this._busy = false;
      const root = this.attachShadow({ mode: "open" });
      root.innerHTML = `<style>${STYLE}</style>
        <div class="zone" part="zone">
          <button type="button" part="button"></button>
          <div class="hint">or drop files here</div>
          <input type="file" hidden>
          <div class="error" role="alert" part="error"></div>
          <ul part="list"></ul>
        </div>`;
      this._zone = root.querySelector(".zone");
      this._button = root.querySelector("button");
      this._input = root.querySelector("input");
      this._error = root.querySelector(".error");
      this._list = root.querySelector("ul");
      this._button.addEventListener("click", () => this._input.click());
      this._input.addEventListener("change", () => {
        this.upload(Array.from(this._input.files || []));
        this._input.value = "";
      });
      this._zone.addEventListener("dragover", (e) => {
        e.preventDefault();
        this._zone.classList.add("over");
      });
      this._zone.addEventListener("dragleave", () => this._zone.classList.remove("over"));
      this._zone.addEventListener("drop", (e) => {
        e.preventDefault();
        this._zone.classList.remove("over");
        this.upload(Array.from((e.dataTransfer && e.dataTransfer.files) || []));
      });
      this._render();
    }

    attributeChangedCallback() {
      this._render();
    }

    // Properties, so frameworks (React sets properties on custom elements) can pass them too.
    get token() {
      return this._token || this.getAttribute("token");
    }
    set token(value) {
      this._token = value;
    }
    get api() {
      return (this.getAttribute("api") || SCRIPT_ORIGIN).replace(/\/+$/, "");
    }
    set api(value) {
      this.setAttribute("api", value);
    }
    get tokenUrl() {
      return this.getAttribute("token-url");
    }
    set tokenUrl(value) {
      this.setAttribute("token-url", value);
    }

    _render() {
      const multiple = this.hasAttribute("multiple");
      this._input.multiple = multiple;
      this._input.accept = this.getAttribute("accept") || "";
      this._button.textContent =
        this.getAttribute("label") || (multiple ? "Upload files" : "Upload a file");
    }

    async _clientToken() {
      if (this.tokenUrl) {
        const response = await fetch(this.tokenUrl, { method: "POST", credentials: "same-origin" });
        if (!response.ok) throw new Error(await errorMessage(response));
        const body = await response.json();
        if (!body || typeof body.token !== "string") {
          throw new Error("The token URL did not answer {\"token\": \"jct_...\"}.");
        }
        return body.token;
      }
      if (this.token) return this.token;
      throw new Error("This upload button has no token-url or token: it cannot upload.");
    }

    _row(file) {
      const li = document.createElement("li");
      li.innerHTML = `<div class="row"><span class="name"></span><span class="state">Waiting…</span></div>
        <progress max="1" value="0"></progress>`;
      li.querySelector(".name").textContent = `${file.name} (${humanSize(file.size)})`;
      this._list.appendChild(li);
      return {
        progress: (fraction) => {
          li.querySelector("progress").value = fraction;
        },
        state: (text, kind) => {
          const el = li.querySelector(".state");
          el.textContent = text;
          el.className = `state ${kind || ""}`;
          if (kind === "error") el.setAttribute("role", "alert");
        },
      };
    }

    _emit(name, detail) {
      this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
    }

    async upload(files) {
      if (!files.length || this._busy) return;
      this._busy = true;
      this._button.disabled = true;
      this._error.textContent = "";
      this._list.textContent = "";
      const rows = files.map((f) => this._row(f));
      try {
        const token = await this._clientToken();
        const auth = { Authorization: `Bearer ${token}` };
        const response = await fetch(`${this.api}/api/uploads`, {
          method: "POST",
          headers: { ...auth, "Content-Type": "application/json" },
          body: JSON.stringify({
            files: files.map((f) => ({
              name: f.name,
              size: f.size,
              type: f.type || "application/octet-stream",
            })),
          }),
        });
        if (!response.ok) throw new Error(await errorMessage(response));
        const { uploads } = await response.json();
        const results = await Promise.all(
          uploads.map((item, i) => this._send(item, files[i], rows[i], auth)),
        );
        this._emit("complete", { uploads: results });
      } catch (err) {
        this._error.textContent = err.message;
        rows.forEach((row) => row.state("Not uploaded", "error"));
        this._emit("error", { message: err.message });
      } finally {
        this._busy = false;
        this._button.disabled = false;
      }
    }

    async _send(item, file, row, auth) {
      try {
        row.state("Uploading…");
        let completeBody = {};
        if (item.multipart) {
          completeBody = { parts: await this._sendParts(item.multipart, file, row) };
        } else {
          await put(item.url, file, item.headers, (loaded) => row.progress(loaded / (file.size || 1)));
        }
        row.progress(1);
        row.state("Checking…");
        const response = await fetch(`${this.api}/api/uploads/${encodeURIComponent(item.id)}/complete`, {
          method: "POST",
          headers: { ...auth, "Content-Type": "application/json" },
          body: JSON.stringify(completeBody),
        });
        if (!response.ok) throw new Error(await errorMessage(response));
        const result = await response.json();
        if (result.status === "ready") row.state("Uploaded", "ready");
        else row.state(`Rejected: ${result.reason || "not accepted"}`, "error");
        return result;
      } catch (err) {
        row.state(err.message, "error");
        return { id: item.id, status: "failed", reason: err.message };
      }
    }

    async _sendParts(multipart, file, row) {
      const loaded = new Map();
      const report = () => {
        let sum = 0;
        loaded.forEach((n) => (sum += n));
        row.progress(sum / (file.size || 1));
      };
      const queue = multipart.parts.slice();
      const done = [];
      const worker = async () => {
        while (queue.length) {
          const part = queue.shift();
          const start = (part.part_number - 1) * multipart.part_size;
          const blob = file.slice(start, Math.min(start + multipart.part_size, file.size));
          const etag = await put(part.url, blob, {}, (n) => {
            loaded.set(part.part_number, n);
            report();
          });
          if (!etag) throw new Error("Storage hid the part's ETag: its CORS rules must expose ETag.");
          done.push({ part_number: part.part_number, etag });
        }
      };
      await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker));
      return done.sort((a, b) => a.part_number - b.part_number);
    }
  }

  customElements.define("jsoncraft-upload", JsoncraftUpload);
})();
