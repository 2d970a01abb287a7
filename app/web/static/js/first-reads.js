// The job page's first reads of its JSON, which the page already asked for with
// <link rel="preload"> (pages.py's _first_reads) while the browser parsed it. A preload is
// taken by a fetch of the same URL in the browser's default cache mode, so each of those
// URLs is read that way once; every other read asks the service anew (api.js's no-store).

import { getJSON, request } from "./api.js";
import { pageState } from "./live.js";

const preloaded = new Set(Object.values(pageState()?.preload ?? {}));

export async function readJSON(url) {
  if (preloaded.delete(url)) return (await request(url, { cache: "default" })).json();
  return getJSON(url);
}
