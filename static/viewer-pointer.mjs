// The viewer's canvas under the mouse and keyboard: draw, move and resize regions, pan, window / level,
// zoom with the wheel, Delete a selected region, arrows step frames. Split from viewer.mjs (one concept a
// module): what the pointer does to a Viewer's view, window and regions.
const $ = (sel) => document.querySelector(sel); // as viewer.mjs (no import of page.mjs here)

const HANDLE_PX = 8; // screen pixels around a rectangle's bottom-right corner that resize it

// Where an event falls, in image pixels (x, y) and canvas pixels (sx, sy).
function toImage(viewer, event) {
  const box = viewer.canvas.getBoundingClientRect();
  const sx = ((event.clientX - box.left) * viewer.canvas.width) / box.width;
  const sy = ((event.clientY - box.top) * viewer.canvas.height) / box.height;
  return { x: (sx - viewer.view.x) / viewer.view.scale, y: (sy - viewer.view.y) / viewer.view.scale, sx, sy };
}

// The region under p (its resize handle first), topmost first.
function hit(viewer, p) {
  const regions = viewer.visibleRegions().reverse();
  const corner = HANDLE_PX / viewer.view.scale;
  for (const r of regions) {
    if (Math.abs(p.x - (r.x + r.width)) <= corner && Math.abs(p.y - (r.y + r.height)) <= corner) return { r, kind: "resize" };
  }
  for (const r of regions) {
    if (p.x >= r.x && p.x <= r.x + r.width && p.y >= r.y && p.y <= r.y + r.height) return { r, kind: "move" };
  }
  return null;
}

// Wires the canvas of `viewer` (a Viewer) to the pointer, the wheel and the keys.
export function wirePointer(viewer) {
  const c = viewer.canvas;
  c.addEventListener("pointerdown", (event) => {
    if (!viewer.image) return;
    c.setPointerCapture(event.pointerId);
    const p = toImage(viewer, event);
    const tool = $("#viewer-tool").value;
    if (tool === "draw") {
      const under = hit(viewer, p);
      if (under) {
        viewer.selected = under.r;
        viewer.drag = { kind: under.kind, start: p, orig: { ...under.r } };
      } else {
        viewer.selected = null;
        const x = Math.round(p.x);
        const y = Math.round(p.y);
        viewer.drag = { kind: "new", start: { x, y }, rect: { x, y, width: 0, height: 0 } };
      }
    } else {
      viewer.drag = { kind: tool, start: p, view: { ...viewer.view }, window: viewer.window && [...viewer.window] };
    }
    viewer.draw();
  });
  c.addEventListener("pointermove", (event) => {
    if (!viewer.drag) return;
    const p = toImage(viewer, event);
    const d = viewer.drag;
    const clampX = (v) => Math.max(0, Math.min(viewer.image.columns, Math.round(v)));
    const clampY = (v) => Math.max(0, Math.min(viewer.image.rows, Math.round(v)));
    if (d.kind === "new") {
      const x0 = clampX(Math.min(d.start.x, p.x));
      const y0 = clampY(Math.min(d.start.y, p.y));
      d.rect = { x: x0, y: y0, width: clampX(Math.max(d.start.x, p.x)) - x0, height: clampY(Math.max(d.start.y, p.y)) - y0 };
    } else if (d.kind === "move") {
      viewer.selected.x = clampX(d.orig.x + p.x - d.start.x);
      viewer.selected.y = clampY(d.orig.y + p.y - d.start.y);
    } else if (d.kind === "resize") {
      viewer.selected.width = Math.max(1, clampX(d.orig.x + d.orig.width + p.x - d.start.x) - viewer.selected.x);
      viewer.selected.height = Math.max(1, clampY(d.orig.y + d.orig.height + p.y - d.start.y) - viewer.selected.y);
    } else if (d.kind === "pan") {
      viewer.view.x = d.view.x + (p.sx - d.start.sx);
      viewer.view.y = d.view.y + (p.sy - d.start.sy);
    } else if (d.kind === "window" && d.window) {
      viewer.window = [d.window[0] + (p.sy - d.start.sy) * d.window[1] / 256, Math.max(1, d.window[1] + (p.sx - d.start.sx) * d.window[1] / 256)];
      viewer.rerender();
      return;
    }
    viewer.draw();
  });
  const end = () => {
    const d = viewer.drag;
    viewer.drag = null;
    if (!d) return;
    if (d.kind === "new" && d.rect.width >= 1 && d.rect.height >= 1) viewer.add(d.rect);
    else if (d.kind === "move" || d.kind === "resize") viewer.changed();
    else viewer.draw();
  };
  c.addEventListener("pointerup", end);
  c.addEventListener("pointercancel", end);
  c.addEventListener("wheel", (event) => {
    if (!viewer.image) return;
    event.preventDefault();
    const p = toImage(viewer, event);
    const factor = event.deltaY < 0 ? 1.25 : 0.8;
    viewer.view.scale *= factor;
    viewer.view.x = p.sx - p.x * viewer.view.scale;
    viewer.view.y = p.sy - p.y * viewer.view.scale;
    viewer.draw();
  }, { passive: false });
  c.addEventListener("keydown", (event) => {
    if ((event.key === "Delete" || event.key === "Backspace") && viewer.selected) viewer.remove(viewer.selected);
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      event.preventDefault();
      viewer.step(event.key === "ArrowRight" ? 1 : -1);
    }
  });
}
