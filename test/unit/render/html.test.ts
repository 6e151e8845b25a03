import { describe, expect, it } from "vitest";
import { code, escapeHtml, mentionHtml, truncate } from "../../../src/render/html.js";

describe("escapeHtml", () => {
  it("escapes every character that could open markup or an attribute", () => {
    expect(escapeHtml(`<script>alert("x" + 'y')</script> & more`)).toBe(
      "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;)&lt;/script&gt; &amp; more",
    );
  });

  it("escapes an ampersand only once, so entities typed by a user stay visible as typed", () => {
    expect(escapeHtml("&lt;b&gt;")).toBe("&amp;lt;b&amp;gt;");
  });

  it("leaves markdown and mention text as text", () => {
    expect(escapeHtml("**bold** [x](https://evil.example) @room")).toBe("**bold** [x](https://evil.example) @room");
  });
});

describe("code, mentionHtml, truncate", () => {
  it("wraps escaped text in <code>", () => {
    expect(code("<b>")).toBe("<code>&lt;b&gt;</code>");
  });

  it("builds a matrix.to pill with the ID encoded in the link and escaped in the text", () => {
    expect(mentionHtml("@mod:example.org")).toBe('<a href="https://matrix.to/#/%40mod%3Aexample.org">@mod:example.org</a>');
    expect(mentionHtml('@x"><script>:example.org')).toBe(
      '<a href="https://matrix.to/#/%40x%22%3E%3Cscript%3E%3Aexample.org">@x&quot;&gt;&lt;script&gt;:example.org</a>',
    );
  });

  it("truncates with an ellipsis to at most the limit", () => {
    expect(truncate("abcdef", 6)).toBe("abcdef");
    expect(truncate("abcdefg", 6)).toBe("abcde…");
    expect(truncate("x".repeat(500))).toHaveLength(200);
  });
});
