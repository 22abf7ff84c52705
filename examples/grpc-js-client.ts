/**
 * For teams on @grpc/grpc-js (`npm i @grpc/grpc-js @bufbuild/protobuf` plus the generated gen/ code): a plain
 * grpc-js client whose (de)serialisers are protobuf-es, so no .proto loading at run time. The token goes in the
 * `authorization: Bearer …` metadata, the deadline in the call options. Run it with
 *   MOVIEREC_ADDRESS=localhost:8080 node examples/grpc-js-client.ts labyrinth
 * tests/client/client.test.ts runs this file against a real server.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { CatalogService, SearchMoviesRequestSchema, type SearchMoviesResponse } from "../gen/movierec/catalog/v1/catalog_service_pb.js";

/** grpc-js method definition of one unary method, from its protobuf-es descriptor. */
function unary<I extends DescMessage, O extends DescMessage>(service: string, method: string, input: I, output: O) {
  return {
    path: `/${service}/${method}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
    requestDeserialize: (b: Buffer) => fromBinary(input, b),
    responseSerialize: (m: MessageShape<O>) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b: Buffer) => fromBinary(output, b),
  };
}

const search = CatalogService.method.searchMovies;
const Catalog = grpc.makeGenericClientConstructor({ SearchMovies: unary(CatalogService.typeName, search.name, search.input, search.output) }, "CatalogService");
const client = new Catalog(process.env.MOVIEREC_ADDRESS ?? "localhost:8080", grpc.credentials.createInsecure());

const metadata = new grpc.Metadata();
if (process.env.MOVIEREC_TOKEN) metadata.set("authorization", `Bearer ${process.env.MOVIEREC_TOKEN}`);
const request = create(SearchMoviesRequestSchema, { query: process.argv[2] ?? "alien", pageSize: 5 });
client.SearchMovies(request, metadata, { deadline: Date.now() + 5_000 }, (err: grpc.ServiceError | null, res?: SearchMoviesResponse) => {
  if (err) {
    console.error(`movierec refused: ${grpc.status[err.code]} ${err.details}`);
    process.exitCode = 1;
  } else {
    console.log(JSON.stringify(res!.movies.map((m) => m.title)));
  }
  client.close();
});
