/**
 * `npm run datasets -- DIR`: SHA-256 checks, copies from another folder, downloads of the official zip (from a
 * local HTTP server standing in for GroupLens/Kaggle), refusal of files that do not match, and no built-in path.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDatasets, DATASET_SOURCES, prepareDatasets, requireDatasetsDir, runDatasetsCommand, type DatasetSource } from "../../src/modules/catalog/dataset-files.ts";
import { readZipEntries } from "../../src/modules/catalog/zip-entries.ts";
import { makeZip } from "../support/zip-writer.ts";

const sum = (s: string) => createHash("sha256").update(s).digest("hex");
const RATINGS = "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n";
const MOVIES = "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n";

let tmp: string;
let server: Server;
let baseUrl: string;
const archives = new Map<string, Buffer>();
const hits: string[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "movierec-datasets-"));
  server = createServer((req, res) => {
    hits.push(req.url!);
    const zip = archives.get(req.url!);
    res.writeHead(zip ? 200 : 404, { "content-type": "application/zip" }).end(zip ?? "");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  archives.set("/ml.zip", makeZip({ "ml/": "", "ml/ratings.csv": RATINGS, "ml/movies.csv": MOVIES, "ml/extra.txt": "x" }));
  archives.set("/changed.zip", makeZip({ "ml/ratings.csv": RATINGS + "2,2,5.0,1\n", "ml/movies.csv": MOVIES }));
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const source = (archive: string): DatasetSource => ({
  folder: "ml", files: { "ratings.csv": sum(RATINGS), "movies.csv": sum(MOVIES) }, archiveUrl: `${baseUrl}${archive}`,
  archiveFolder: "ml/", homepage: "https://example.invalid", terms: "test",
});

describe("zip reader", () => {
  it("reads deflated entries and skips folders", () => {
    const entries = readZipEntries(archives.get("/ml.zip")!);
    expect([...entries.keys()]).toEqual(["ml/ratings.csv", "ml/movies.csv", "ml/extra.txt"]);
    expect(entries.get("ml/ratings.csv")!.toString()).toBe(RATINGS);
    expect(() => readZipEntries(Buffer.from("not a zip at all, certainly not"))).toThrow(/not a zip archive/);
  });
});

describe("prepareDatasets", () => {
  it("downloads the archive, keeps only the listed files and verifies them; a second run downloads nothing", async () => {
    const dir = path.join(tmp, "download");
    const lines: string[] = [];
    expect(await prepareDatasets(dir, { out: (l) => lines.push(l), sources: [source("/ml.zip")] })).toBe(true);
    expect(await readFile(path.join(dir, "ml/ratings.csv"), "utf8")).toBe(RATINGS);
    expect(lines.at(-1)).toBe("ml: ok (2 files, SHA-256 verified)");
    hits.length = 0;
    expect(await prepareDatasets(dir, { out: () => {}, sources: [source("/ml.zip")] })).toBe(true);
    expect(hits).toEqual([]);
  });

  it("refuses an archive whose files do not match the sums, and a damaged local file is replaced", async () => {
    const dir = path.join(tmp, "changed");
    const lines: string[] = [];
    expect(await prepareDatasets(dir, { out: (l) => lines.push(l), sources: [source("/changed.zip")] })).toBe(false);
    expect(lines.join("\n")).toMatch(/ratings\.csv in the archive does not match the expected SHA-256/);
    expect(lines.at(-1)).toMatch(/^ml: NOT ready — ratings\.csv, movies\.csv missing or damaged\. Get http:\/\/127\.0\.0\.1:\d+\/changed\.zip/);
    await expect(readFile(path.join(dir, "ml/ratings.csv"))).rejects.toThrow(/ENOENT/);

    await mkdir(path.join(dir, "ml"), { recursive: true });
    await writeFile(path.join(dir, "ml/ratings.csv"), "edited");
    expect((await checkDatasets(dir, [source("/ml.zip")])).map((c) => c.state)).toEqual(["checksum mismatch", "missing"]);
    expect(await prepareDatasets(dir, { out: () => {}, sources: [source("/ml.zip")] })).toBe(true);
    expect(await readFile(path.join(dir, "ml/ratings.csv"), "utf8")).toBe(RATINGS);
  });

  it("copies good files from --from, and offline reports what is missing without downloading", async () => {
    const dir = path.join(tmp, "copied");
    const lines: string[] = [];
    hits.length = 0;
    const ok = await prepareDatasets(dir, { from: path.join(tmp, "download"), offline: true, out: (l) => lines.push(l), sources: [source("/ml.zip")] });
    expect(ok).toBe(true);
    expect(lines).toContain(`ml/ratings.csv: copied from ${path.join(tmp, "download", "ml")}`);
    expect(hits).toEqual([]);
    const none = await prepareDatasets(path.join(tmp, "empty"), { offline: true, out: () => {}, sources: [source("/ml.zip")] });
    expect(none).toBe(false);
  });
});

describe("the command", () => {
  it("knows the official archives and the sums of TMDb 5000 and MovieLens latest-small", () => {
    expect(DATASET_SOURCES.map((s) => [s.folder, s.archiveUrl])).toEqual([
      ["tmdb-5000", "https://www.kaggle.com/api/v1/datasets/download/tmdb/tmdb-movie-metadata"],
      ["ml-latest-small", "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"],
    ]);
    expect(DATASET_SOURCES[1]!.files["ratings.csv"]).toBe("aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646");
  });

  it("checks a folder offline and exits 1 naming each dataset's source when files are missing; usage errors exit 2", async () => {
    const lines: string[] = [];
    expect(await runDatasetsCommand([path.join(tmp, "none"), "--offline"], (l) => lines.push(l))).toBe(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^tmdb-5000: NOT ready — tmdb_5000_movies\.csv missing or damaged\. Get https:\/\/www\.kaggle\.com/);
    expect(lines[1]).toMatch(/^ml-latest-small: NOT ready — README\.txt, links\.csv, movies\.csv, ratings\.csv, tags\.csv missing/);
    expect(await runDatasetsCommand([], () => {})).toBe(2);
    expect(await runDatasetsCommand(["a", "--bogus"], () => {})).toBe(2);
  });

  it("has no built-in dataset folder", () => {
    expect(requireDatasetsDir("rel/dir", undefined)).toBe(path.resolve("rel/dir"));
    expect(requireDatasetsDir(undefined, "/env/dir")).toBe("/env/dir");
    expect(() => requireDatasetsDir(undefined, undefined)).toThrow(/npm run datasets -- DIR/);
  });
});
