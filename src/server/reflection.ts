import { fromBinary, toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ServerReflection as ReflectionV1,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { reflectionDocs } from "../../gen/reflection-docs.js";

// gRPC status codes used inside ErrorResponse messages (the reflection protocol's own convention).
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

/**
 * Indexes of what reflection serves: every file (with its transitive imports) behind the given
 * services, their symbols and extensions. Built once; reflection calls are then map look-ups.
 */
export class ReflectionIndex {
  readonly services: readonly string[];
  readonly #files = new Map<string, DescFile>();
  readonly #bySymbol = new Map<string, DescFile>();
  readonly #extensions = new Map<string, Map<number, DescFile>>();
  readonly #encoded = new Map<string, Uint8Array>();
  /** Our files as buf compiled them, comments included (gen/reflection-docs.js); the rest come without. */
  readonly #documented: ReadonlyMap<string, FileDescriptorProto>;

  constructor(services: readonly DescService[], documented: string = reflectionDocs) {
    const set = fromBinary(FileDescriptorSetSchema, Buffer.from(documented, "base64"));
    this.#documented = new Map(set.file.map((f) => [f.name, f]));
    this.services = services.map((s) => s.typeName);
    for (const s of services) this.#addFile(s.file);
  }

  #addFile(file: DescFile): void {
    // DescFile.name drops the ".proto" suffix; reflection clients ask by the full file name.
    if (this.#files.has(file.proto.name)) return;
    this.#files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.#addFile(dep);
    for (const type of nestedTypes(file)) {
      this.#bySymbol.set(type.typeName, file);
      if (type.kind === "service") for (const m of type.methods) this.#bySymbol.set(`${type.typeName}.${m.name}`, file);
      if (type.kind === "message") for (const f of type.fields) this.#bySymbol.set(`${type.typeName}.${f.name}`, file);
      if (type.kind === "enum") for (const v of type.values) this.#bySymbol.set(`${type.typeName.split(".").slice(0, -1).join(".")}.${v.name}`, file);
      if (type.kind === "extension") {
        const byNumber = this.#extensions.get(type.extendee.typeName) ?? new Map<number, DescFile>();
        byNumber.set(type.number, file);
        this.#extensions.set(type.extendee.typeName, byNumber);
      }
    }
    if (file.proto.package) this.#bySymbol.set(file.proto.package, file);
  }

  fileByName(name: string): DescFile | undefined {
    return this.#files.get(name);
  }

  fileBySymbol(symbol: string): DescFile | undefined {
    return this.#bySymbol.get(symbol.replace(/^\./, ""));
  }

  fileByExtension(containingType: string, number: number): DescFile | undefined {
    return this.#extensions.get(containingType)?.get(number);
  }

  extensionNumbers(containingType: string): number[] | undefined {
    const byNumber = this.#extensions.get(containingType);
    return byNumber ? [...byNumber.keys()].sort((a, b) => a - b) : undefined;
  }

  /** The file and its transitive imports, serialized, dependencies first. */
  encodeWithDependencies(file: DescFile): Uint8Array[] {
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    const visit = (f: DescFile) => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      for (const d of f.dependencies) visit(d);
      out.push(this.#encode(f));
    };
    visit(file);
    return out;
  }

  #encode(file: DescFile): Uint8Array {
    let bytes = this.#encoded.get(file.name);
    if (!bytes) {
      // protoc-gen-es embeds descriptors without source info; the documented copy lets grpcurl print comments.
      bytes = toBinary(FileDescriptorProtoSchema, this.#documented.get(file.proto.name) ?? file.proto);
      this.#encoded.set(file.name, bytes);
    }
    return bytes;
  }
}

type ReflectionResponseInit = Omit<ServerReflectionResponse, "$typeName" | "originalRequest"> & { originalRequest?: ServerReflectionRequest };

/** Answers one reflection request. */
export function answerReflection(index: ReflectionIndex, req: ServerReflectionRequest): ReflectionResponseInit {
  const base = { validHost: req.host, originalRequest: req };
  const files = (file: DescFile | undefined, what: string): ReflectionResponseInit =>
    file
      ? { ...base, messageResponse: { case: "fileDescriptorResponse", value: { $typeName: "grpc.reflection.v1.FileDescriptorResponse", fileDescriptorProto: index.encodeWithDependencies(file) } } }
      : error(NOT_FOUND, `${what} not found`);
  const error = (errorCode: number, errorMessage: string): ReflectionResponseInit => ({
    ...base,
    messageResponse: { case: "errorResponse", value: { $typeName: "grpc.reflection.v1.ErrorResponse", errorCode, errorMessage } },
  });
  const r = req.messageRequest;
  switch (r.case) {
    case "listServices":
      return {
        ...base,
        messageResponse: {
          case: "listServicesResponse",
          value: {
            $typeName: "grpc.reflection.v1.ListServiceResponse",
            service: index.services.map((name) => ({ $typeName: "grpc.reflection.v1.ServiceResponse", name })),
          },
        },
      };
    case "fileByFilename":
      return files(index.fileByName(r.value), `file ${r.value}`);
    case "fileContainingSymbol":
      return files(index.fileBySymbol(r.value), `symbol ${r.value}`);
    case "fileContainingExtension":
      return files(index.fileByExtension(r.value.containingType, r.value.extensionNumber), `extension ${r.value.extensionNumber} of ${r.value.containingType}`);
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(r.value);
      if (!numbers) return error(NOT_FOUND, `type ${r.value} has no known extensions`);
      return {
        ...base,
        messageResponse: {
          case: "allExtensionNumbersResponse",
          value: { $typeName: "grpc.reflection.v1.ExtensionNumberResponse", baseTypeName: r.value, extensionNumber: numbers },
        },
      };
    }
    default:
      return error(INVALID_ARGUMENT, "empty reflection request");
  }
}

/** `grpc.reflection.v1.ServerReflection`: a bidirectional stream of look-ups. */
export function createReflectionV1(index: ReflectionIndex): ServiceImpl<typeof ReflectionV1> {
  return {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield answerReflection(index, req);
    },
  };
}

/**
 * `grpc.reflection.v1alpha.ServerReflection`, still the one many tools try first. Its messages
 * have the same fields and numbers as v1, so the v1 answer is valid for it as a plain object.
 */
export function createReflectionV1Alpha(index: ReflectionIndex): ServiceImpl<typeof ReflectionV1Alpha> {
  return {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        const answer = answerReflection(index, req as unknown as ServerReflectionRequest);
        yield stripTypeNames(answer) as never;
      }
    },
  };
}

/** Drops `$typeName` from a plain message tree so it can initialise the v1alpha twin message. */
function stripTypeNames(value: unknown): unknown {
  if (value instanceof Uint8Array || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(stripTypeNames);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== "$typeName" && k !== "originalRequest") out[k] = stripTypeNames(v);
  return out;
}
