// Streams the de-identified zip to a download without building it in memory: the page feeds chunks
// through a MessageChannel, one per pull (backpressure), and this worker answers the download request.
const pending = new Map();

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "download" && event.ports[0]) {
    pending.set(data.id, { port: event.ports[0], filename: data.filename });
    // The page navigates to the download only after this reply: a message and a fetch are separate tasks,
    // and the fetch must not arrive before the download is known here.
    event.ports[0].postMessage({ registered: true });
  }
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const match = url.pathname.match(/\/download\/([A-Za-z0-9-]+)$/);
  if (url.origin !== self.location.origin || !match || !pending.has(match[1])) return;
  const { port, filename } = pending.get(match[1]);
  pending.delete(match[1]);
  const stream = new ReadableStream({
    start(controller) {
      port.onmessage = ({ data }) => {
        if (data.done) controller.close();
        else if (data.error) controller.error(new Error(data.error));
        else controller.enqueue(data.chunk);
      };
    },
    pull() {
      port.postMessage({ pull: true });
      return new Promise((resolve) => { const prev = port.onmessage; port.onmessage = (e) => { port.onmessage = prev; prev(e); resolve(); }; });
    },
    cancel() { port.postMessage({ cancel: true }); },
  }, new ByteLengthQueuingStrategy({ highWaterMark: 4 * 1024 * 1024 })); // a few MB ahead, not the zip
  event.respondWith(new Response(stream, {
    headers: {
      "Content-Type": "application/zip",
      "Content-Disposition": `attachment; filename="${filename}"`,
      "Cache-Control": "no-store",
    },
  }));
});
