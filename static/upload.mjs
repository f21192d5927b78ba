// Upload: de-identified instances go to this server's DICOMweb STOW-RS, a few per request, a few requests
// in flight, retried with back-off; what the server already holds unchanged is not sent again (QIDO-RS
// lists each stored instance with its SHA-256). No de-identification here: the bytes come from the engine.
//
// Bodies are bounded Blobs (multipart/related): Chromium does not stream request bodies to HTTP/1.1.

const PER_REQUEST_FILES = 8;
const PER_REQUEST_BYTES = 32 * 1024 * 1024;
const IN_FLIGHT = 3;
const RETRIES = 6;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

// `fatal`: no later request can succeed either (the server is gone, the token is refused, the server keeps
// failing): the upload stops at once instead of retrying every remaining batch.
export class UploadError extends Error {
  constructor(message, { fatal = false } = {}) {
    super(message);
    this.fatal = fatal;
  }
}

// HTTPS is required, except to this computer (plain HTTP on loopback is how the server runs by default).
export function checkEndpoint(endpoint) {
  const url = new URL(endpoint, location.href);
  if (url.origin !== location.origin) {
    throw new UploadError("the page sends only to the server it came from (its Content-Security-Policy)");
  }
  if (url.protocol !== "https:" && !LOOPBACK.has(url.hostname)) {
    throw new UploadError("uploads need HTTPS (plain HTTP is allowed only to this computer)");
  }
  return url.href.replace(/\/$/, "");
}

async function sha256(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// Resolves after `ms`, or at once when `signal` aborts.
const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

export class Uploader {
  constructor({ endpoint, token, onProgress }) {
    this.endpoint = checkEndpoint(endpoint);
    this.token = token;
    this.onProgress = onProgress || (() => {});
    this.held = new Map(); // study UID -> Promise<Map(sop -> sha256)> of what the server holds
    this.batch = [];
    this.batchBytes = 0;
    this.requests = new Set();
    this.report = { stored: [], unchanged: [], refused: [], errors: [] };
    // Answered so far (stored, unchanged, refused or failed), counted in the sizes the caller gave.
    this.done = { files: 0, size: 0 };
    this.storedIn = new Map(); // study UID -> {files, size} the server confirmed stored
    this.fatal = null; // the UploadError that stopped the upload
    this.aborter = new AbortController(); // cancel(): stops requests in flight and any retry
  }

  // The user cancelled: nothing more is sent; requests in flight are aborted (the server keeps what it
  // stored of them, and a later upload skips those).
  cancel() {
    if (!this.fatal) this.fatal = new UploadError("cancelled", { fatal: true });
    this.aborter.abort();
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  async fetchRetrying(url, init, what) {
    for (let attempt = 0; ; attempt++) {
      let response;
      try {
        response = await fetch(url, { ...init, signal: this.aborter.signal });
      } catch (err) {
        if (this.aborter.signal.aborted) throw this.fatal;
        if (attempt >= RETRIES) {
          throw new UploadError(`${what}: the server cannot be reached (${err.message})`, { fatal: true });
        }
        await sleep(Math.min(30_000, 500 * 2 ** attempt), this.aborter.signal);
        if (this.aborter.signal.aborted) throw this.fatal;
        continue;
      }
      if (response.status === 401) {
        throw new UploadError("the server refused the token (401): check it in Settings", { fatal: true });
      }
      if (response.status === 413) throw new UploadError(`${what}: larger than the server accepts (413)`);
      if ((response.status === 429 || response.status >= 500) && attempt < RETRIES) {
        const wait = Number(response.headers.get("Retry-After")) * 1000 || 500 * 2 ** attempt;
        await sleep(Math.min(60_000, wait), this.aborter.signal);
        if (this.aborter.signal.aborted) throw this.fatal;
        continue;
      }
      return response;
    }
  }

  // What the server already holds for a study (asked once per study): sop -> sha256.
  heldIn(study) {
    if (!this.held.has(study)) {
      this.held.set(study, (async () => {
        const out = new Map();
        const series = await this.fetchRetrying(`${this.endpoint}/studies/${study}/series`, { headers: this.headers() }, "asking the server");
        if (series.status !== 200) return out;
        for (const s of await series.json()) {
          const uid = s["0020000E"].Value[0];
          const r = await this.fetchRetrying(`${this.endpoint}/studies/${study}/series/${uid}/instances`, { headers: this.headers() }, "asking the server");
          if (r.status !== 200) continue;
          for (const i of await r.json()) out.set(i["00080018"].Value[0], i["00091001"]?.Value?.[0]);
        }
        return out;
      })());
    }
    return this.held.get(study);
  }

  // One de-identified instance: skipped if the server holds these exact bytes, else queued for sending.
  // (Hashed only when the server holds this instance at all: a first upload hashes nothing.) `size`: what
  // it counts for in `done` (e.g. the input file's size; default: its bytes).
  async add({ study, sop, bytes, size = bytes.byteLength }) {
    if (this.fatal) throw this.fatal;
    const held = await this.heldIn(study);
    if (held.has(sop) && held.get(sop) === await sha256(bytes)) {
      this.report.unchanged.push(sop);
      this.done.files += 1;
      this.done.size += size;
      this.onProgress(this);
      return;
    }
    this.batch.push({ study, sop, bytes, size });
    this.batchBytes += bytes.byteLength;
    if (this.batch.length >= PER_REQUEST_FILES || this.batchBytes >= PER_REQUEST_BYTES) await this.flush();
  }

  async flush() {
    if (!this.batch.length) return;
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    while (this.requests.size >= IN_FLIGHT) await Promise.race(this.requests);
    if (this.fatal) throw this.fatal;
    const request = this.send(batch).finally(() => this.requests.delete(request));
    this.requests.add(request);
  }

  async send(batch) {
    const boundary = `pacsbin-${crypto.randomUUID()}`;
    const parts = [];
    for (const { bytes } of batch) {
      parts.push(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, bytes, "\r\n");
    }
    parts.push(`--${boundary}--\r\n`);
    const body = new Blob(parts);
    try {
      const response = await this.fetchRetrying(`${this.endpoint}/studies`, {
        method: "POST",
        body,
        headers: this.headers({
          "Content-Type": `multipart/related; type="application/dicom"; boundary=${boundary}`,
          Accept: "application/dicom+json",
        }),
      }, `sending ${batch.length} file(s)`);
      const answer = response.headers.get("Content-Type")?.includes("json") ? await response.json() : {};
      if (![200, 202, 409].includes(response.status)) {
        // Still 429 or 5xx after the retries: the server cannot take more now. Other answers (400, 413,
        // 415) are about this request only.
        const status = response.status;
        const fatal = status === 429 || status >= 500;
        const why = status === 429 ? "the server is busy (429: too many requests)"
          : status >= 500 ? `the server is unavailable (HTTP ${status})` : `the server answered ${status}`;
        throw new UploadError(answer.error ? `${why}: ${answer.error}` : why, { fatal });
      }
      const sent = new Map(batch.map((b) => [b.sop, b]));
      for (const item of answer["00081199"]?.Value || []) {
        const sop = item["00081155"].Value[0];
        this.report.stored.push(sop);
        const b = sent.get(sop);
        if (!b) continue;
        const n = this.storedIn.get(b.study) || { files: 0, size: 0 };
        n.files += 1;
        n.size += b.size;
        this.storedIn.set(b.study, n);
      }
      for (const item of answer["00081198"]?.Value || []) {
        this.report.refused.push({ sop: item["00081155"]?.Value?.[0] || "", reason: item["00000902"]?.Value?.[0] || "refused" });
      }
    } catch (err) {
      for (const { sop } of batch) this.report.errors.push({ sop, reason: String(err.message || err) });
      if (err.fatal && !this.fatal) this.fatal = err;
    }
    this.done.files += batch.length;
    this.done.size += batch.reduce((n, b) => n + b.size, 0);
    this.onProgress(this);
  }

  // After a stop: the requests still in flight have ended (answered, failed or aborted).
  async settle() {
    await Promise.allSettled([...this.requests]);
  }

  // Everything sent and answered: the report. Throws the fatal error if there was one (the report then
  // says what got through before it).
  async finish() {
    if (!this.fatal) await this.flush();
    await Promise.all(this.requests);
    if (this.fatal) throw this.fatal;
    return this.report;
  }
}
