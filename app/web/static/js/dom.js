// DOM built in scripts, for what a page's <template>s do not hold (tooltips, log lines):
// text goes in as text nodes and is never parsed as HTML.

// `tag` with `className` (or none), and `children`: nodes, or text (strings, numbers).
export function element(tag, className = "", ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children.map((child) => (child instanceof Node ? child : String(child))));
  return node;
}

// A clone of <template id="`id`">'s first element.
export function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}
