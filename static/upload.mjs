// Upload: de-identified instances go to this server's DICOMweb STOW-RS, a few per request, a few requests
// in flight, retried with back-off; what the server already holds unchanged is not sent again (QIDO-RS
// lists each stored instance with its SHA-256). No de-identification here: the bytes come from the engine.
//
// Bodies are bounded Blobs (multipart/related): Chromium does not stream request bodies to HTTP/1.1.

const PER_REQUEST_FILES = 8;
const PER_REQUEST_BYTES = 32 * 1024 * 1024;
const IN_FLIGHT = 3;
const RETRIES = 6; // network errors, 5xx and requests without an answer: back-off 0.5 s doubling, up to 30 s
// 429 with the server's Retry-After: the server says when it will take the request, so these waits are
// not failures; bounded all the same (a server that keeps refusing stops the upload).
const BUSY_RETRIES = 30;
const LONGEST_WAIT_MS = 10 * 60_000;
// A request without any answer after this (plus the time its body may take on a slow 2 Mbit/s uplink) is
// given up and retried: a stalled server shows as a countdown, not as an upload frozen forever. Sending it
// again is harmless: the server stores the same bytes once.
const NO_ANSWER_MS = 60_000;
const SLOW_UPLINK_BYTES_PER_MS = 250;
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

const backoff = (attempt) => Math.min(30_000, 500 * 2 ** attempt);

// Retry-After (RFC 9110 10.2.3): whole seconds or an HTTP date; null when absent or unreadable.
export function retryAfterMs(value, now = Date.now()) {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

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
    this.unchangedIn = new Map(); // study UID -> {files, size} the server already held (not sent again)
    this.fatal = null; // the UploadError that stopped the upload
    this.aborter = new AbortController(); // cancel(): stops requests in flight and any retry
    // What the progress shows besides the counts: retry waits (a countdown), and how long the server has
    // been silent while asked (a stalled server never looks like "about 1 s left").
    this.waits = new Set(); // {until (performance.now() ms), why}
    this.busyUntil = 0; // after a 429: nobody asks before the server said it will answer
    this.asking = 0; // requests sent and not answered yet
    this.heardAt = performance.now(); // last answer, or when the server was asked after a quiet time
  }

  // The soonest retry, if any request waits for one: {seconds, why}.
  waiting() {
    let soonest = null;
    for (const w of this.waits) if (!soonest || w.until < soonest.until) soonest = w;
    if (!soonest) return null;
    return { seconds: Math.max(0, Math.ceil((soonest.until - performance.now()) / 1000)), why: soonest.why };
  }

  // Seconds the server has been asked without answering anything (0 when nothing is asked).
  silentFor() {
    return this.asking ? Math.floor((performance.now() - this.heardAt) / 1000) : 0;
  }

  async waitFor(ms, why) {
    const wait = { until: performance.now() + ms, why };
    this.waits.add(wait);
    this.onProgress(this);
    try {
      await sleep(ms, this.aborter.signal);
    } finally {
      this.waits.delete(wait);
      this.onProgress(this);
    }
    if (this.aborter.signal.aborted) throw this.fatal;
  }

  // One request, given up when nothing comes back in time (the server holds it: a stall).
  async fetchOnce(url, init) {
    const bodySize = init.body?.size || 0;
    const patience = NO_ANSWER_MS + bodySize / SLOW_UPLINK_BYTES_PER_MS;
    const signal = AbortSignal.any([this.aborter.signal, AbortSignal.timeout(patience)]);
    if (!this.asking++) this.heardAt = performance.now();
    try {
      const response = await fetch(url, { ...init, signal });
      this.heardAt = performance.now();
      return response;
    } finally {
      this.asking--;
    }
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

  // A request, retried: after network errors, requests without an answer and 5xx with back-off; after a
  // 429 when the server's Retry-After says (every request waits for it, so none is refused again for
  // asking early). Each wait is a countdown in the progress. Gives back the last answer when the retries
  // are spent (the caller says what it means), throws when there was none.
  async fetchRetrying(url, init, what) {
    let failures = 0;
    let refusals = 0;
    for (;;) {
      const pause = this.busyUntil - performance.now();
      if (pause > 0) await this.waitFor(pause, "429: too many requests");
      let response;
      try {
        response = await this.fetchOnce(url, init);
      } catch (err) {
        if (this.aborter.signal.aborted) throw this.fatal;
        const why = err.name === "TimeoutError" ? "no answer" : "no connection";
        if (failures >= RETRIES) {
          const detail = err.name === "TimeoutError" ? "the server does not answer"
            : `the server cannot be reached (${err.message})`;
          throw new UploadError(`${what}: ${detail}`, { fatal: true });
        }
        await this.waitFor(backoff(failures++), why);
        continue;
      }
      if (response.status === 401) {
        throw new UploadError("the server refused the token (401): check it in Settings", { fatal: true });
      }
      if (response.status === 413) throw new UploadError(`${what}: larger than the server accepts (413)`);
      if (response.status === 429 && refusals < BUSY_RETRIES) {
        const wait = retryAfterMs(response.headers.get("Retry-After")) ?? backoff(refusals);
        refusals += 1;
        response.body?.cancel().catch(() => {}); // the answer's text is not needed
        this.busyUntil = Math.max(this.busyUntil, performance.now() + Math.min(LONGEST_WAIT_MS, wait));
        continue;
      }
      if (response.status >= 500 && failures < RETRIES) {
        const wait = retryAfterMs(response.headers.get("Retry-After")) ?? backoff(failures);
        failures += 1;
        response.body?.cancel().catch(() => {}); // the answer's text is not needed
        await this.waitFor(Math.min(LONGEST_WAIT_MS, wait), `HTTP ${response.status}`);
        continue;
      }
      return response;
    }
  }

  // What the server already holds for a study: sop -> sha256. One QIDO-RS request per study (instances
  // at study level, PS3.18 10.6), not one per series: a resumed upload stays far below the token's rate.
  heldIn(study) {
    if (!this.held.has(study)) this.held.set(study, this.askHeld(study));
    return this.held.get(study);
  }

  async askHeld(study) {
    const held = new Map();
    try {
      const what = "asking the server what it already holds";
      const r = await this.fetchRetrying(`${this.endpoint}/studies/${study}/instances`, { headers: this.headers() }, what);
      if (r.status === 204) return held; // nothing of this study yet
      if (r.status !== 200) {
        // Not knowing is not a reason to send blindly into a server that is busy or failing.
        const why = r.status === 429 ? "the server is busy (429: too many requests)" : `the server answered ${r.status}`;
        throw new UploadError(`${what}: ${why}`, { fatal: true });
      }
      for (const i of await r.json()) held.set(i["00080018"].Value[0], i["00091001"]?.Value?.[0]);
      return held;
    } catch (err) {
      if (err.fatal && !this.fatal) this.fatal = err;
      throw err;
    }
  }

  count(perStudy, study, size) {
    const n = perStudy.get(study) || { files: 0, size: 0 };
    n.files += 1;
    n.size += size;
    perStudy.set(study, n);
  }

  // One de-identified instance: skipped if the server holds these exact bytes, else queued for sending.
  // (Hashed only when the server holds this instance at all: a first upload hashes nothing.) `size`: what
  // it counts for in `done` (e.g. the input file's size; default: its bytes).
  async add({ study, sop, bytes, size = bytes.byteLength }) {
    if (this.fatal) throw this.fatal;
    const held = await this.heldIn(study);
    if (held.has(sop) && held.get(sop) === await sha256(bytes)) {
      this.report.unchanged.push(sop);
      this.count(this.unchangedIn, study, size);
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
        if (b) this.count(this.storedIn, b.study, b.size);
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
