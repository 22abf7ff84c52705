/** Clients of the run's API processes: the typed movierec client over gRPC (HTTP/2), no retries (a check must see failures). */
import { Code, ConnectError } from "@connectrpc/connect";
import { createMovierecClient, type MovierecClient } from "../client/index.ts";
import type { AppNode } from "./topology.ts";

export interface Api extends MovierecClient {
  readonly name: string;
  readonly baseUrl: string;
}

export function apiOf(node: AppNode): Api {
  return { ...createMovierecClient({ baseUrl: node.baseUrl, protocol: "grpc", retries: 0, timeoutMs: 20_000 }), name: node.name, baseUrl: node.baseUrl };
}

/** Call options carrying a user's access token. */
export const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** The Connect code of a failed call, or "ok". */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return Code[ConnectError.from(e).code] ?? String(ConnectError.from(e).code);
  }
}

/** Signs in on `api`; returns the access token. */
export async function login(api: Api, username: string, password: string): Promise<string> {
  return (await api.user.login({ login: username, password })).accessToken;
}
