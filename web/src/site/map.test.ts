import { describe, expect, it } from "vitest";
import { fit, project, tileUrl } from "./map";

describe("results map", () => {
  it("projects as Web Mercator", () => {
    expect(project({ lat: 0, lng: 0 }, 0)).toEqual({ x: 128, y: 128 });
  });
  it("fits every point inside the box, with tiles covering it", () => {
    const pts = [
      { lat: 54.9, lng: 8.3 },
      { lat: 54.0, lng: 10.7 },
    ];
    const m = fit(pts, 480, 360);
    for (const p of pts) {
      const q = m.place(p);
      expect(q.x).toBeGreaterThan(0);
      expect(q.x).toBeLessThan(480);
      expect(q.y).toBeGreaterThan(0);
      expect(q.y).toBeLessThan(360);
    }
    expect(m.tiles.length).toBeGreaterThan(1);
    expect(m.tiles.length).toBeLessThan(12);
  });
  it("fills the tile template", () => {
    expect(tileUrl("https://t/{z}/{x}/{y}.png", 3, 4, 5)).toBe("https://t/3/4/5.png");
  });
});
