// The colours the scripts draw with, read from app.css's custom properties: each colour is
// defined once, in the stylesheet, and a script names the property (`cssVar("--best")`).

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
