/**
 * Template rendering with Mustache: logic-less, so a staff-written template can read values but never run code,
 * and `{{x}}` is HTML-escaped by default (`{{{x}}}` opts out). Syntax is checked when a template is saved
 * (`checkTemplateSyntax`), so a broken template never reaches the send path.
 */
import Mustache from "mustache";
import { InvalidInputError } from "../../platform/errors.ts";

/** The three parts of a message. `html` is empty for push. */
export interface TemplateParts {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface RenderedMessage extends TemplateParts {
  /** Placeholders that found no value (rendered empty), e.g. `user.first_name`. */
  readonly missingVariables: string[];
}

type Token = [type: string, value: string, start: number, end: number, children?: Token[]];

const noEscape = (s: string) => s;

function parse(source: string, field: string): Token[] {
  let tokens: Token[];
  try {
    tokens = Mustache.parse(source) as Token[];
  } catch (e) {
    throw new InvalidInputError(`template syntax error: ${(e as Error).message}`, field);
  }
  const walk = (list: Token[]) => {
    for (const t of list) {
      // Partials would let a template pull in other text at send time; we keep every message self-contained.
      if (t[0] === ">") throw new InvalidInputError(`partials ({{> ${t[1]}}}) are not supported`, field);
      if (t[4]) walk(t[4]);
    }
  };
  walk(tokens);
  return tokens;
}

/** Rejects a template whose subject, HTML or text does not parse (field names as in the API). */
export function checkTemplateSyntax(parts: TemplateParts): void {
  parse(parts.subject, "template.subject");
  parse(parts.html, "template.html_content");
  parse(parts.text, "template.text_content");
}

/** Renders all three parts: HTML escaped, subject and text not (they are not HTML). */
export function renderTemplate(parts: TemplateParts, data: Record<string, unknown>): RenderedMessage {
  const missing = new Set<string>();
  for (const source of [parts.subject, parts.html, parts.text]) collectMissing(parse(source, "template"), [data], missing);
  return {
    // Subjects are header values: no line breaks, whatever the data holds.
    subject: Mustache.render(parts.subject, data, {}, { escape: noEscape }).replace(/[\r\n]+/g, " ").trim().slice(0, 200),
    html: Mustache.render(parts.html, data),
    text: Mustache.render(parts.text, data, {}, { escape: noEscape }),
    missingVariables: [...missing].sort(),
  };
}

/** Mustache's name resolution: the innermost context that has the first segment, then down the dots. */
function lookup(stack: unknown[], name: string): unknown {
  if (name === ".") return stack[stack.length - 1];
  const [head, ...rest] = name.split(".");
  for (let i = stack.length - 1; i >= 0; i--) {
    const ctx = stack[i];
    if (ctx !== null && typeof ctx === "object" && head! in (ctx as object)) {
      let v: unknown = (ctx as Record<string, unknown>)[head!];
      for (const seg of rest) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<string, unknown>)[seg];
      }
      return v;
    }
  }
  return undefined;
}

function collectMissing(tokens: Token[], stack: unknown[], missing: Set<string>): void {
  for (const [type, name, , , children] of tokens) {
    if (type === "name" || type === "&") {
      if (lookup(stack, name) === undefined) missing.add(name);
    } else if (type === "#" || type === "^") {
      const v = lookup(stack, name);
      if (v === undefined) missing.add(name);
      if (!children) continue;
      if (type === "^") {
        if (!v || (Array.isArray(v) && v.length === 0)) collectMissing(children, stack, missing);
      } else if (Array.isArray(v)) {
        // One element is enough to find the names a list item lacks.
        if (v.length > 0) collectMissing(children, [...stack, v[0]], missing);
      } else if (v) {
        collectMissing(children, typeof v === "object" ? [...stack, v] : stack, missing);
      }
    }
  }
}
