/** Escapes text for HTML bodies: moderators' arguments and room names are untrusted. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

export function code(text: string): string {
  return `<code>${escapeHtml(text)}</code>`;
}

/** A mention that pings: a matrix.to pill in HTML, the bare ID in plain text. */
export function mentionHtml(userId: string): string {
  return `<a href="https://matrix.to/#/${encodeURIComponent(userId)}">${escapeHtml(userId)}</a>`;
}

/** Limits how much of an untrusted string we echo back. */
export function truncate(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
