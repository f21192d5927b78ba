// A zip archive (APPNOTE.TXT 6.3.10) streamed from entries whose bytes and CRC-32 are already known: the
// engine computes each output's CRC with zlib, so the page does no per-byte work. client-zip (used before)
// computed CRC-32 in JavaScript on the main thread, ~4 ms per 0.5 MB file in Chromium (measured), and
// takes no precomputed value; zip.js takes one (passThrough) but spent ~1 ms a file on its own streams.
// Entries are stored (DICOM pixel data hardly compresses), named in UTF-8, dated 2000-01-01 (zip times
// would carry information); Zip64 records are written only where a size, offset or count needs them.

const LIMIT32 = 0xffffffff;
const LIMIT16 = 0xffff;
const DOS_DATE = ((2000 - 1980) << 9) | (1 << 5) | 1; // 2000-01-01, time 00:00:00
const UTF8_NAMES = 0x0800; // general purpose bit 11
const UNIX_FILE = 0o100644 * 0x10000; // external attributes: a regular file, rw-r--r--
const encoder = new TextEncoder();
const total = (parts) => parts.reduce((n, p) => n + p.length, 0);

function record(size, fill, ...tail) {
  const bytes = new Uint8Array(size + total(tail));
  fill(new DataView(bytes.buffer));
  let at = size;
  for (const part of tail) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes; // one buffer per record: the consumer may transfer it (the download does)
}

// The Zip64 extended information extra field (APPNOTE 4.5.3): only the values that overflowed, in order.
function zip64Extra(values) {
  if (!values.length) return new Uint8Array(0);
  return record(4 + 8 * values.length, (v) => {
    v.setUint16(0, 0x0001, true);
    v.setUint16(2, 8 * values.length, true);
    values.forEach((n, i) => v.setBigUint64(4 + 8 * i, BigInt(n), true));
  });
}

function localHeader(name, size, crc, limit) {
  const big = size >= limit;
  const extra = zip64Extra(big ? [size, size] : []);
  return record(30, (v) => {
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, big ? 45 : 20, true); // version needed: 4.5 for Zip64
    v.setUint16(6, UTF8_NAMES, true);
    v.setUint16(8, 0, true); // stored
    v.setUint16(10, 0, true);
    v.setUint16(12, DOS_DATE, true);
    v.setUint32(14, crc >>> 0, true);
    v.setUint32(18, big ? LIMIT32 : size, true);
    v.setUint32(22, big ? LIMIT32 : size, true);
    v.setUint16(26, name.length, true);
    v.setUint16(28, extra.length, true);
  }, name, extra);
}

function centralHeader({ name, size, crc, offset }, limit) {
  const bigSize = size >= limit;
  const bigOffset = offset >= limit;
  const extra = zip64Extra([...(bigSize ? [size, size] : []), ...(bigOffset ? [offset] : [])]);
  return record(46, (v) => {
    v.setUint32(0, 0x02014b50, true);
    v.setUint16(4, (3 << 8) | 45, true); // made by: Unix, 4.5
    v.setUint16(6, bigSize || bigOffset ? 45 : 20, true);
    v.setUint16(8, UTF8_NAMES, true);
    v.setUint16(10, 0, true);
    v.setUint16(12, 0, true);
    v.setUint16(14, DOS_DATE, true);
    v.setUint32(16, crc >>> 0, true);
    v.setUint32(20, bigSize ? LIMIT32 : size, true);
    v.setUint32(24, bigSize ? LIMIT32 : size, true);
    v.setUint16(28, name.length, true);
    v.setUint16(30, extra.length, true);
    v.setUint32(38, UNIX_FILE, true);
    v.setUint32(42, bigOffset ? LIMIT32 : offset, true);
  }, name, extra);
}

function end(count, cdSize, cdOffset, limit) {
  const zip64 = count >= LIMIT16 || cdSize >= limit || cdOffset >= limit;
  const out = [];
  if (zip64) {
    out.push(record(56, (v) => { // Zip64 end of central directory record (APPNOTE 4.3.14)
      v.setUint32(0, 0x06064b50, true);
      v.setBigUint64(4, 44n, true);
      v.setUint16(12, (3 << 8) | 45, true);
      v.setUint16(14, 45, true);
      v.setBigUint64(24, BigInt(count), true);
      v.setBigUint64(32, BigInt(count), true);
      v.setBigUint64(40, BigInt(cdSize), true);
      v.setBigUint64(48, BigInt(cdOffset), true);
    }));
    out.push(record(20, (v) => { // its locator (4.3.15)
      v.setUint32(0, 0x07064b50, true);
      v.setBigUint64(8, BigInt(cdOffset + cdSize), true);
      v.setUint32(16, 1, true);
    }));
  }
  out.push(record(22, (v) => { // end of central directory record (4.3.16)
    v.setUint32(0, 0x06054b50, true);
    v.setUint16(8, zip64 ? LIMIT16 : count, true);
    v.setUint16(10, zip64 ? LIMIT16 : count, true);
    v.setUint32(12, zip64 ? LIMIT32 : cdSize, true);
    v.setUint32(16, zip64 ? LIMIT32 : cdOffset, true);
  }));
  return out;
}

// CRC-32 (ISO 3309, as zlib) for the few small entries the page writes itself (the report).
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// entries: an (async) iterable of {name, bytes: Uint8Array, crc32} (crc32 left out: computed here). Returns a ReadableStream of the
// archive, pulled entry by entry (nothing is read ahead of the consumer). `zip64Limit` is for tests
// only: sizes and offsets from it on are written as Zip64 values (valid at any size).
export function zipStream(entries, { zip64Limit = LIMIT32 } = {}) {
  const iterator = (entries[Symbol.asyncIterator] || entries[Symbol.iterator]).call(entries);
  const central = [];
  let offset = 0;
  let finished = false;
  return new ReadableStream({
    async pull(controller) {
      if (finished) return;
      const { value, done } = await iterator.next();
      if (done) {
        const cd = record(0, () => {}, ...central.map((entry) => centralHeader(entry, zip64Limit)));
        controller.enqueue(record(0, () => {}, cd, ...end(central.length, cd.length, offset, zip64Limit)));
        finished = true;
        controller.close();
        return;
      }
      const name = encoder.encode(value.name);
      const size = value.bytes.length;
      const crc = value.crc32 ?? crc32(value.bytes);
      const parts = [localHeader(name, size, crc, zip64Limit), value.bytes];
      for (const part of parts) if (part.length) controller.enqueue(part);
      central.push({ name, size, crc, offset });
      offset += total(parts);
    },
    async cancel(reason) {
      if (iterator.return) await iterator.return(reason);
    },
  }, { highWaterMark: 0 });
}
