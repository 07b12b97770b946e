// Web Mercator arithmetic for the results map: the zoom that fits every point in the box, the
// tiles that cover it and where each point falls (pixels from the box's top left).
export type Point = { lat: number; lng: number };
const TILE = 256;

export function project(p: Point, zoom: number): { x: number; y: number } {
  const scale = TILE * 2 ** zoom;
  const s = Math.sin((Math.max(-85, Math.min(85, p.lat)) * Math.PI) / 180);
  return { x: ((p.lng + 180) / 360) * scale, y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale };
}

export function fit(points: Point[], width: number, height: number, maxZoom = 15) {
  let zoom = maxZoom;
  for (; zoom > 1; zoom--) {
    const px = points.map((p) => project(p, zoom));
    const w = Math.max(...px.map((q) => q.x)) - Math.min(...px.map((q) => q.x));
    const h = Math.max(...px.map((q) => q.y)) - Math.min(...px.map((q) => q.y));
    if (w <= width * 0.8 && h <= height * 0.8) break;
  }
  const px = points.map((p) => project(p, zoom));
  const cx = (Math.max(...px.map((q) => q.x)) + Math.min(...px.map((q) => q.x))) / 2;
  const cy = (Math.max(...px.map((q) => q.y)) + Math.min(...px.map((q) => q.y))) / 2;
  const left = cx - width / 2;
  const top = cy - height / 2;
  const tiles: { x: number; y: number; left: number; top: number }[] = [];
  const n = 2 ** zoom;
  for (let ty = Math.floor(top / TILE); ty * TILE < top + height; ty++) {
    for (let tx = Math.floor(left / TILE); tx * TILE < left + width; tx++) {
      if (ty < 0 || ty >= n) continue;
      tiles.push({ x: ((tx % n) + n) % n, y: ty, left: tx * TILE - left, top: ty * TILE - top });
    }
  }
  return { zoom, tiles, place: (p: Point) => ({ x: project(p, zoom).x - left, y: project(p, zoom).y - top }) };
}

export function tileUrl(template: string, zoom: number, x: number, y: number): string {
  return template.replace("{z}", String(zoom)).replace("{x}", String(x)).replace("{y}", String(y));
}
