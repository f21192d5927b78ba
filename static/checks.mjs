// What a person was shown, and so what the page may tell the engine about each image's pixels.
// PS3.15 E.3.1 (Clean Pixel Data): the claim "no burned-in identity" is a person's, so it is made per image
// that person was shown (every frame of it) or redacted, never inherited from the series: an image the
// viewer cannot show exactly (a 12-bit JPEG, a corrupt frame) is not covered by "I have checked every
// image of this series". The engine writes 113101 / Burned In Annotation NO only for images sent with
// `reviewed: true` (redaction/apply.py); this module decides that flag and nothing else.
import { state } from "./page.mjs";
import { textStatus } from "./suggestions.mjs";

// How the series' images that cannot be shown are treated once the series is checked.
export const UNSHOWN_LEAVE_OUT = "leave";
export const UNSHOWN_UNCLAIMED = "unclaimed"; // included, without the Clean Pixel Data claim

export const framesOf = (inst) => inst.frameCount || parseInt(inst.header.NumberOfFrames, 10) || 1;

// The viewer drew frame `frame` (1-based) of `inst`, which has `frames` frames.
export function markShown(inst, frame, frames) {
  inst.frameCount = frames;
  inst.unshowable = null;
  (inst.framesShown ??= new Set()).add(frame);
}

// The viewer could not draw it exactly (no exact decoder, corrupt data, ...).
export function markUnshowable(inst, reason) {
  inst.unshowable = reason;
}

export const wasSeen = (inst) => !inst.unshowable && Boolean(inst.framesShown)
  && inst.framesShown.size >= framesOf(inst);

// The first frame of `inst` not shown yet (1-based), or 0.
export function firstUnseenFrame(inst) {
  for (let f = 1; f <= framesOf(inst); f++) if (!inst.framesShown || !inst.framesShown.has(f)) return f;
  return 0;
}

// A series whose pixels must be looked at and that nobody has checked yet: the engine's review rule says so,
// or the text scan found text in one of its images (issue 14: a CT screenshot with a name on it).
export const gated = (series) => (Boolean(series.pixelReview) || textFound(series)) && !series.checked;

// The text scan (textscan.mjs) found text in an image of this series (suggestions.mjs).
export const textFound = (series) => series.instances.some((i) => i.textScan && i.textScan.suggestions?.length);

// Images that hold pixels to look at: objects without pixels (SR, presentation states) have nothing to see.
const hasPixels = (inst) => Boolean(inst.header.Rows);

export function pixelStatus(series) {
  const images = series.instances.filter(hasPixels);
  const unshown = images.filter((i) => i.unshowable);
  const unseen = images.filter((i) => !i.unshowable && !wasSeen(i));
  return { images: images.length, unshown, unseen, seen: images.length - unshown.length - unseen.length };
}

// "I have checked every image of this series" may be pressed once every image that can be shown was shown
// (every frame) and at least one was, and every text suggestion in it was accepted or dismissed (issue 14:
// suggestions are never applied, nor passed over, silently); the images that cannot be shown are then left
// out or sent unclaimed.
export function canConfirm(series, status = pixelStatus(series)) {
  const text = textStatus(series, state.regions);
  return status.unseen.length === 0 && status.seen > 0 && text.undecided === 0 && !textPending(series, text);
}

// The text scan will still look at images of this series (it has not started yet, or it is running): the
// check waits for what it finds. A cancelled scan or a finder that could not start does not hold the check
// back: the review and the list say which images were not looked at, and the person decides.
export function textPending(series, text = textStatus(series, state.regions)) {
  const status = state.textScan ? state.textScan.status : "idle";
  return (status === "idle" || status === "running") && text.notLooked > 0;
}

// Whether this image goes into a run or an upload.
export function instanceIncluded(series, inst) {
  if (!state.included.has(series.key) || gated(series) || inst.failure) return false;
  const unshownLeftOut = series.pixelReview && inst.unshowable && series.unshown !== UNSHOWN_UNCLAIMED;
  return !unshownLeftOut;
}

// The page's word to the engine: a person checked this image's pixels (every frame was shown to them).
export function claimsClean(series, inst) {
  return Boolean(series && series.checked) && wasSeen(inst);
}
