import type { Interceptor } from "@connectrpc/connect";
import { createValidator } from "@bufbuild/protovalidate";
import { createValidateInterceptor } from "@connectrpc/validate";

/**
 * Validates every request message against the protovalidate rules in proto/.
 * Violations become INVALID_ARGUMENT with a `buf.validate.Violations` detail naming each field.
 * Client-streaming methods listed in `perItem` are left to their handler, which reports
 * invalid items by index instead of failing the whole stream.
 */
export function validationInterceptor(opts: { skipMethods?: ReadonlySet<string> } = {}): Interceptor {
  const validate = createValidateInterceptor({ validator: createValidator() });
  const skip = opts.skipMethods ?? new Set<string>();
  return (next) => {
    const validated = validate(next);
    return (req) => (skip.has(`${req.service.typeName}/${req.method.name}`) ? next(req) : validated(req));
  };
}
