// Debian's Chromium, headless and off the network (no downloads, no background traffic).
import chromium from "./chromium.json" with { type: "json" };

export const CHROMIUM = process.env.CHROMIUM_PATH ?? chromium.path;
export const CHROMIUM_ARGS = chromium.args;
