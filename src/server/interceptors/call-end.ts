import { Code, ConnectError, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";

/**
 * Awaits a call and reports its final code once it has really finished: for a streaming response
 * that is when the stream ends, not when the handler returns. `0` means OK (connect has no Code.OK).
 * Errors are re-thrown unchanged; `onEnd` runs exactly once.
 */
export async function observeCallEnd<R extends UnaryResponse | StreamResponse>(call: Promise<R>, onEnd: (code: Code | 0) => void): Promise<R> {
  let res: R;
  try {
    res = await call;
  } catch (e) {
    onEnd(ConnectError.from(e).code);
    throw e;
  }
  if (!res.stream) {
    onEnd(0);
    return res;
  }
  const inner = res.message;
  return {
    ...res,
    message: (async function* () {
      try {
        yield* inner;
        onEnd(0);
      } catch (e) {
        onEnd(ConnectError.from(e).code);
        throw e;
      }
    })(),
  };
}
