/**
 * The public datasets that `npm run import`, `npm run eval` and the benches read, with their SHA-256 sums, where
 * they come from and their terms. `npm run datasets -- DIR [--from SRC] [--offline]` checks DIR and fills in
 * what is missing or damaged: copied from SRC when it holds a good copy, otherwise downloaded from the official
 * archive when the machine is online. Every file is checked against its sum before anything reads it, so a
 * partial download or an edited copy is never imported.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { readZipEntries } from "./zip-entries.ts";

export interface DatasetSource {
  /** Folder under DIR that holds the files. */
  readonly folder: string;
  /** File name → SHA-256 of the copy every figure in the README was measured on. */
  readonly files: Readonly<Record<string, string>>;
  /** The official archive and the folder its entries sit in. */
  readonly archiveUrl: string;
  readonly archiveFolder: string;
  readonly homepage: string;
  readonly terms: string;
}

export const DATASET_SOURCES: readonly DatasetSource[] = [
  {
    folder: "tmdb-5000",
    files: { "tmdb_5000_movies.csv": "1e0584a8dd374120e4ed4f2b81f0d2bd0eb95a554708e4a350d00ed5c46d2825" },
    archiveUrl: "https://www.kaggle.com/api/v1/datasets/download/tmdb/tmdb-movie-metadata",
    archiveFolder: "",
    homepage: "https://www.kaggle.com/datasets/tmdb/tmdb-movie-metadata",
    terms: "derived from TMDb; TMDb's terms of use apply (https://www.themoviedb.org/api-terms-of-use)",
  },
  {
    folder: "ml-latest-small",
    files: {
      "README.txt": "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404",
      "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
      "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
      "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
      "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
    },
    archiveUrl: "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
    archiveFolder: "ml-latest-small/",
    homepage: "https://grouplens.org/datasets/movielens/latest/",
    terms: "GroupLens licence in its README.txt: research use, no commercial use without permission, redistribution under the same terms, cite F. M. Harper and J. A. Konstan, ACM TiiS 5(4), 2015",
  },
];

export type FileState = "ok" | "missing" | "checksum mismatch";

export interface FileCheck {
  readonly path: string;
  readonly state: FileState;
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function stateOf(file: string, expected: string): Promise<FileState> {
  try {
    return sha256(await readFile(file)) === expected ? "ok" : "checksum mismatch";
  } catch {
    return "missing";
  }
}

/** Checks every file of every dataset under `dir`. */
export async function checkDatasets(dir: string, sources: readonly DatasetSource[] = DATASET_SOURCES): Promise<FileCheck[]> {
  const out: FileCheck[] = [];
  for (const s of sources) {
    for (const [name, sum] of Object.entries(s.files)) {
      const file = path.join(dir, s.folder, name);
      out.push({ path: file, state: await stateOf(file, sum) });
    }
  }
  return out;
}

export interface PrepareOptions {
  /** A folder laid out like DIR (e.g. a colleague's copy) to copy good files from before downloading. */
  readonly from?: string;
  /** Never download (report what is missing instead). */
  readonly offline?: boolean;
  readonly out: (line: string) => void;
  readonly sources?: readonly DatasetSource[];
  readonly fetch?: typeof fetch;
}

/** Makes every dataset under `dir` complete and verified; returns false (having said why) when one is not. */
export async function prepareDatasets(dir: string, opts: PrepareOptions): Promise<boolean> {
  let allOk = true;
  for (const s of opts.sources ?? DATASET_SOURCES) {
    const target = path.join(dir, s.folder);
    const bad = (await checkDatasets(dir, [s])).filter((c) => c.state !== "ok").map((c) => path.basename(c.path));
    if (bad.length > 0 && opts.from) await copyGoodFiles(s, path.join(opts.from, s.folder), target, bad, opts.out);
    let still = (await checkDatasets(dir, [s])).filter((c) => c.state !== "ok").map((c) => path.basename(c.path));
    if (still.length > 0 && !opts.offline) {
      try {
        await download(s, target, still, opts);
      } catch (e) {
        opts.out(`${s.folder}: download from ${s.archiveUrl} failed: ${(e as Error).message}`);
      }
      still = (await checkDatasets(dir, [s])).filter((c) => c.state !== "ok").map((c) => path.basename(c.path));
    }
    if (still.length === 0) {
      opts.out(`${s.folder}: ok (${Object.keys(s.files).length} files, SHA-256 verified)`);
    } else {
      allOk = false;
      opts.out(`${s.folder}: NOT ready — ${still.join(", ")} missing or damaged. Get ${s.archiveUrl} (see ${s.homepage}) and unpack it into ${target}`);
    }
  }
  return allOk;
}

async function copyGoodFiles(s: DatasetSource, from: string, target: string, names: string[], out: (l: string) => void) {
  await mkdir(target, { recursive: true });
  for (const name of names) {
    if ((await stateOf(path.join(from, name), s.files[name]!)) !== "ok") continue;
    await copyFile(path.join(from, name), path.join(target, name));
    out(`${s.folder}/${name}: copied from ${from}`);
  }
}

async function download(s: DatasetSource, target: string, names: string[], opts: PrepareOptions) {
  opts.out(`${s.folder}: downloading ${s.archiveUrl}`);
  const res = await (opts.fetch ?? fetch)(s.archiveUrl, { signal: AbortSignal.timeout(300_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const entries = readZipEntries(Buffer.from(await res.arrayBuffer()));
  await mkdir(target, { recursive: true });
  for (const name of names) {
    const data = entries.get(s.archiveFolder + name);
    if (!data) throw new Error(`the archive has no ${s.archiveFolder + name}`);
    // A file that does not match is not written: a changed upstream file must not pass for the measured one.
    if (sha256(data) !== s.files[name]) throw new Error(`${name} in the archive does not match the expected SHA-256 (upstream changed?)`);
    await writeFile(path.join(target, name), data);
    opts.out(`${s.folder}/${name}: downloaded and verified`);
  }
}

/**
 * The dataset folder of a command: `--data-dir DIR` if given, else DATASETS_DIR. Never a built-in path: a
 * clone has no datasets until `npm run datasets -- DIR` prepared them.
 */
export function requireDatasetsDir(flag: string | undefined, fromEnv: string | undefined): string {
  const dir = flag || fromEnv;
  if (!dir) throw new Error("no dataset folder: pass --data-dir DIR or set DATASETS_DIR (prepare one with `npm run datasets -- DIR`)");
  return path.resolve(dir);
}

/** `npm run datasets -- DIR [--from SRC] [--offline]`; returns the exit code. */
export async function runDatasetsCommand(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const usage = "usage: npm run datasets -- DIR [--from SRC] [--offline]";
  let dir: string | undefined;
  let from: string | undefined;
  let offline = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--from") from = argv[++i];
    else if (a === "--offline") offline = true;
    else if (!a.startsWith("--") && dir === undefined) dir = a;
    else {
      out(`unknown argument ${JSON.stringify(a)}\n${usage}`);
      return 2;
    }
  }
  if (!dir) {
    out(usage);
    return 2;
  }
  return (await prepareDatasets(path.resolve(dir), { from: from && path.resolve(from), offline, out })) ? 0 : 1;
}
