import type { DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createValidator } from "@bufbuild/protovalidate";
import { createValidateInterceptor } from "@connectrpc/validate";
import { checkMessage } from "../message-rules.ts";

/** Throws INVALID_ARGUMENT naming the first fields that break the schema-wide rules of message-rules.ts. */
function enforceMessageRules(desc: DescMessage, message: unknown): void {
  const violations = checkMessage(desc, message, 5);
  if (violations.length === 0) return;
  const err = new ConnectError(violations.map((v) => `${v.field}: ${v.message}`).join("; "), Code.InvalidArgument);
  err.metadata.set("x-invalid-field", violations[0]!.field);
  throw err;
}

/** Applies the schema-wide rules to the request message, or to each message of a client stream as it arrives. */
const messageRulesInterceptor: Interceptor = (next) => (req) => {
  if (!req.stream) {
    enforceMessageRules(req.method.input, req.message);
    return next(req);
  }
  // A plain iterator proxy rather than an async generator, so return()/throw() reach the request stream at once
  // (an async generator defers them while suspended), exactly as @connectrpc/validate wraps streams.
  const source = req.message;
  return next({
    ...req,
    message: {
      [Symbol.asyncIterator]() {
        const it = source[Symbol.asyncIterator]();
        const wrapped: AsyncIterator<typeof req.message extends AsyncIterable<infer T> ? T : never> = {
          async next() {
            const r = await it.next();
            if (!r.done) enforceMessageRules(req.method.input, r.value);
            return r;
          },
        };
        if (it.return) wrapped.return = (v?: unknown) => it.return!(v as never);
        if (it.throw) wrapped.throw = (e?: unknown) => it.throw!(e);
        return wrapped;
      },
    },
  });
};

/**
 * Validates every request message: first the rules that hold for every field (message-rules.ts: text without NUL,
 * ids within bigint), then the protovalidate rules in proto/.
 * Violations become INVALID_ARGUMENT; protovalidate's carry a `buf.validate.Violations` detail naming each field.
 * Client-streaming methods listed in `skipMethods` are left to their handler, which reports
 * invalid items by index instead of failing the whole stream.
 */
export function validationInterceptor(opts: { skipMethods?: ReadonlySet<string> } = {}): Interceptor {
  const validate = createValidateInterceptor({ validator: createValidator() });
  const skip = opts.skipMethods ?? new Set<string>();
  return (next) => {
    const validated = messageRulesInterceptor(validate(next));
    return (req) => (skip.has(`${req.service.typeName}/${req.method.name}`) ? next(req) : validated(req));
  };
}
