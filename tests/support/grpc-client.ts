/**
 * A plain @grpc/grpc-js client (the library internal services use) that (de)serializes with
 * protobuf-es schemas, so tests need no proto-loader.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";

export function grpcClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure());
}

/** Calls a unary method; rejects with the grpc-js ServiceError (code, details, metadata). */
export function grpcUnary<M extends DescMethodUnary>(
  client: grpc.Client,
  method: M,
  input: MessageInitShape<M["input"]>,
  metadata = new grpc.Metadata(),
): Promise<MessageShape<M["output"]>> {
  const path = `/${method.parent.typeName}/${method.name}`;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<MessageShape<M["input"]>, MessageShape<M["output"]>>(
      path,
      (msg: MessageShape<M["input"]>) => Buffer.from(toBinary(method.input, msg)),
      (buf: Buffer) => fromBinary(method.output, buf) as MessageShape<M["output"]>,
      create(method.input, input) as MessageShape<M["input"]>,
      metadata,
      (err: grpc.ServiceError | null, res?: MessageShape<M["output"]>) => (err ? reject(err) : resolve(res!)),
    );
  });
}

/** Sends raw bytes as the request message (for malformed-input tests). */
export function grpcUnaryRaw(client: grpc.Client, path: string, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new grpc.Metadata(), (err, res) => (err ? reject(err) : resolve(res as Buffer)));
  });
}
