// The engine worker's commands: the one list the page and the worker speak. Messages are
// {id, cmd: Command, ...payload} one way and {id, ok, reply | error} back. The page calls them only through
// the typed functions of engines.mjs (`engine.plan(...)` etc.); worker.mjs has one handler per command and
// refuses anything else. There is no pass-through to Python: which Python commands the worker uses is
// worker.mjs's business (anonymizer/browser_api.py's Command table; tests/test_protocol.py checks both).

/** @typedef {{file: File, member: string | null, size: number}} Item  a dropped file, or a zip member */
/** @typedef {{profile: string, options: string[], key: string}} Settings  the engine's settings */
/** @typedef {{regions: object[], reviewed: boolean, compressed: boolean}} Pixels  what a person decided */

export const Command = Object.freeze({
  INIT: "init", //                 {} -> {ms}: the engine loaded
  DESCRIBE: "describe", //         {} -> {profiles, options, exclusive}: what Settings offers
  KEY_CHECK: "key_check", //       {text} -> {status, key | reason}: an imported key file
  REGIONS_CHECK: "regions_check", // {text, name} -> {status, regions | reason}: an imported regions file
  ZIP_LIST: "zip_list", //         {file} -> {status, members | reason}: a dropped zip archive's members
  INDEX: "index", //               {items: Item[]} -> summary[]: the study list's headers
  DIGEST: "digest", //             {item} -> {status, sha256, transfer_syntax}: versions of one image
  PLAN: "plan", //                 {item, settings, pixels} -> {status, plan | reason}: the header review
  IMAGE: "image", //               {item, frame, key, slot} -> {status, image, suggested, frame}: the viewer
  //                                 (slot "view"); the background text scan (slot "scan") also gets
  //                                 `samples`, the frame as the text finder takes it (text_samples.mjs)
  TEXT_MATCHES: "text_matches", // {item, texts, key} -> {status, matches: string[][], names}: the attributes
  //                                 each text read in the pixels spells (anonymizer/text_matches.py)
  DEIDENTIFY: "deidentify", //     {item, settings, pixels} -> {result, bytes}: one output file
});

const KNOWN = new Set(Object.values(Command));

export function checkCommand(cmd) {
  if (!KNOWN.has(cmd)) throw new Error(`unknown engine command ${JSON.stringify(cmd)}`);
  return cmd;
}
