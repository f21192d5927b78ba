// A module worker spoken to by request and reply: {id, cmd, ...payload} one way, {id, ok, reply | error}
// back (the engine's worker.mjs and the text finder's text_worker.mjs both answer so). One class for both
// callers (engines.mjs, textscan.mjs): the command names are checked by each caller against its own table.
export class WorkerClient {
  // onError(message): the worker itself failed (not one request); every waiting request is rejected too.
  constructor(url, onError = () => {}) {
    this.nextId = 0;
    this.waiting = new Map();
    this.worker = new Worker(url, { type: "module" });
    this.worker.onmessage = ({ data }) => {
      const entry = this.waiting.get(data.id);
      if (!entry) return;
      this.waiting.delete(data.id);
      if (data.ok) entry.resolve(data.reply);
      else entry.reject(new Error(data.error));
    };
    this.worker.onerror = (event) => {
      const message = event.message || "the worker stopped (no message)";
      this.rejectAll(new Error(message));
      onError(message);
    };
  }

  send(cmd, payload = {}, transfer = []) {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, cmd, ...payload }, transfer);
    });
  }

  // Requests sent and not answered yet.
  get load() {
    return this.waiting.size;
  }

  rejectAll(error) {
    for (const entry of this.waiting.values()) entry.reject(error);
    this.waiting.clear();
  }

  terminate(reason = "worker replaced") {
    this.worker.terminate();
    this.rejectAll(new Error(reason));
  }
}
