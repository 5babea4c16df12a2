"""The share link in a read-only box with a Copy button.

Why not ``st.code``: its copy button comes with a 1.5 MB syntax-highlighter bundle that the browser loads and
parses on the first page render (about 0.6 s here) just to show one line of text. This components-v2 element
(inline JavaScript, no iframe, a few hundred bytes) shows the whole link, wrapped, in code style (a click selects
all of it), and a button that copies it (Clipboard API where the page is a secure context, else the selection).
"""

from __future__ import annotations

import streamlit as st

_JS = """
export default function copyLink({ data, parentElement }) {
  let box = parentElement.querySelector(".carrylab-copy-link");
  if (!box) {
    box = document.createElement("div");
    box.className = "carrylab-copy-link";
    const link = document.createElement("div");
    link.className = "carrylab-copy-link-text";
    link.setAttribute("aria-label", "Link to this setup");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Copy";
    button.title = "Copy the link to the clipboard";
    button.addEventListener("click", async () => {
      const selection = window.getSelection();
      selection.selectAllChildren(link);
      let copied = false;
      try {
        if (navigator.clipboard && window.isSecureContext) {
          await navigator.clipboard.writeText(link.textContent);
          copied = true;
        }
      } catch (err) { /* fall back to the selection */ }
      if (!copied && document.execCommand) copied = document.execCommand("copy");
      button.textContent = copied ? "Copied" : "Press Ctrl+C";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
    box.append(link, button);
    parentElement.appendChild(box);
  }
  box.querySelector(".carrylab-copy-link-text").textContent = (data && data.url) || "";
}
"""
_CSS = """
.carrylab-copy-link { display: flex; flex-direction: column; gap: 0.4rem; align-items: flex-end; }
.carrylab-copy-link-text {
  align-self: stretch; padding: 0.4rem 0.6rem; font-family: var(--st-code-font, monospace); font-size: 0.78rem;
  line-height: 1.4; overflow-wrap: anywhere; user-select: all; color: var(--st-text-color, inherit);
  background: var(--st-code-background-color, #f0f2f6); border-radius: var(--st-base-radius, 0.5rem);
}
.carrylab-copy-link button {
  padding: 0.35rem 0.7rem; font: inherit; font-size: 0.85rem; cursor: pointer; color: var(--st-text-color, inherit);
  background: var(--st-background-color, #fff); border: 1px solid var(--st-border-color, #d5dae5);
  border-radius: var(--st-button-radius, 0.5rem);
}
.carrylab-copy-link button:hover {
  border-color: var(--st-primary-color, #0b5fa5); color: var(--st-primary-color, #0b5fa5);
}
"""
_mount = st.components.v2.component("carrylab.copy_link", js=_JS, css=_CSS, isolate_styles=True)


def copy_link(url: str, *, key: str = "copy_link") -> None:
    """`url` in a code-style box, with a Copy button."""
    _mount(key=key, data={"url": url})
