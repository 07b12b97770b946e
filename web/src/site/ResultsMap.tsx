// The map of the results, drawn on the server: tiles from MAP_TILE_URL (a {z}/{x}/{y}
// template; none when unset, as in tests) with OpenStreetMap's attribution, a pin per property.
import { getTranslations } from "next-intl/server";
import { fit, tileUrl } from "./map";
import css from "./site.module.css";

export type Pin = { id: string; lat: number; lng: number; label: string; name: string; href: string };
const W = 480;
const H = 360;

export async function ResultsMap({ pins }: { pins: Pin[] }) {
  const t = await getTranslations("site");
  if (pins.length === 0) return null;
  const template = process.env.MAP_TILE_URL ?? "";
  const m = fit(pins, W, H);
  const pct = (v: number, of: number) => `${(v / of) * 100}%`;
  return (
    <section aria-label={t("map")} className={css.map} data-testid="results-map" data-zoom={m.zoom}>
      {template &&
        m.tiles.map((tile) => (
          // eslint-disable-next-line @next/next/no-img-element -- map tiles come from the tile server as they are
          <img
            key={`${tile.x}-${tile.y}-${tile.left}`}
            className={css.tile}
            alt=""
            src={tileUrl(template, m.zoom, tile.x, tile.y)}
            style={{ left: pct(tile.left, W), top: pct(tile.top, H), width: pct(256, W), height: pct(256, H) }}
          />
        ))}
      {pins.map((p) => {
        const at = m.place(p);
        return (
          <a key={p.id} className={css.pin} href={p.href} style={{ left: pct(at.x, W), top: pct(at.y, H) }} aria-label={`${p.name}: ${p.label}`}>
            {p.label}
          </a>
        );
      })}
      <span className={css.attribution}>
        © <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> {t("contributors")}
      </span>
    </section>
  );
}
