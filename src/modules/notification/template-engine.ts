/**
 * Template rendering with Mustache: logic-less, so a staff-written template can read values but never run code,
 * and `{{x}}` is HTML-escaped by default (`{{{x}}}` opts out). Syntax is checked when a template is saved
 * (`checkTemplateSyntax`), so a broken template never reaches the send path.
 *
 * Rendering is bounded. Nested sections multiply: four sections over 50 items each is 6.25 million inner renders
 * from a small template and small data (1.75 s of blocked event loop; five levels ≈ 90 s and 300 MB). Every render
 * (the staff preview and every message rendered for delivery) runs against one budget per message, checked as it
 * goes, so the work stops long before the event loop notices: at most `RENDER_LIMITS.outputChars` characters of
 * output and `RENDER_LIMITS.steps` template tokens visited (a section's body counts once per item). Beyond either the
 * render fails with RenderLimitError, an InvalidInputError (INVALID_ARGUMENT: the template or its data is what is
 * too big, and retrying will not help — not RESOURCE_EXHAUSTED, which our callers read as "slow down and retry")
 * whose message names the limit. Counts, not a clock: the same template and data pass or fail on any machine load.
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

/** The bounds of one message's render (subject, HTML and text together). */
export const RENDER_LIMITS = Object.freeze({
  /** Characters of output: far above any real email (clients clip at ~100 KB), far below a memory problem. */
  outputChars: 1_000_000,
  /** Template tokens visited; a digest of 50 movies with a dozen fields each is ~1,000. */
  steps: 200_000,
});

/** A render stopped at one of RENDER_LIMITS; `limit` says which. */
export class RenderLimitError extends InvalidInputError {
  readonly limit: keyof typeof RENDER_LIMITS;
  constructor(limit: keyof typeof RENDER_LIMITS) {
    super(
      limit === "outputChars"
        ? `rendering stopped: the output exceeds ${RENDER_LIMITS.outputChars.toLocaleString("en")} characters (the template engine's output limit)`
        : `rendering stopped: more than ${RENDER_LIMITS.steps.toLocaleString("en")} template steps, nested sections over this data repeat too often (the template engine's step limit)`,
      "template",
    );
    this.limit = limit;
  }
}

/** Mustache's own writer (same semantics), counting what it renders against one budget and stopping beyond it. */
class BudgetedWriter extends Mustache.Writer {
  #chars = 0;
  #steps = 0;

  override renderTokens(tokens: string[][], ...rest: [Mustache.Context, Mustache.PartialsOrLookupFn?, string?, Mustache.RenderOptions?]): string {
    this.#steps += tokens.length;
    if (this.#steps > RENDER_LIMITS.steps) throw new RenderLimitError("steps");
    return super.renderTokens(tokens, ...rest);
  }
  #count(out: string | undefined): string {
    // Leaves only: a section's output is the sum of its leaves, so this is the message's size, counted once.
    this.#chars += out?.length ?? 0;
    if (this.#chars > RENDER_LIMITS.outputChars) throw new RenderLimitError("outputChars");
    return out as string;
  }
  override escapedValue(token: string[], context: Mustache.Context, config?: Mustache.RenderOptions): string {
    return this.#count(super.escapedValue(token, context, config));
  }
  override unescapedValue(token: string[], context: Mustache.Context): string {
    return this.#count(super.unescapedValue(token, context));
  }
  override rawValue(token: string[]): string {
    return this.#count(super.rawValue(token));
  }
}

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
  const writer = new BudgetedWriter(); // one budget for the whole message
  return {
    // Subjects are header values: no line breaks, whatever the data holds.
    subject: writer.render(parts.subject, data, {}, { escape: noEscape }).replace(/[\r\n]+/g, " ").trim().slice(0, 200),
    html: writer.render(parts.html, data),
    text: writer.render(parts.text, data, {}, { escape: noEscape }),
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
