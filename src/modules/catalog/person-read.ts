/** GetPerson and ListPersonCredits. */
import type { EntityManager } from "@mikro-orm/postgresql";
import type { MovieRecord, Page, PersonCreditRecord, PersonRecord } from "./catalog-types.ts";
import { decodeCursor, encodeCursor, fingerprint, pageSize } from "./cursor.ts";
import { MOVIE_COLUMNS, type MovieRow, isDbId, withGenres } from "./movie-rows.ts";

/** How many movies GetPerson lists as "known for". */
export const KNOWN_FOR = 10;

export type PersonLookup = { by: "id"; id: string } | { by: "tmdb"; tmdbId: number };
export type CreditKind = "all" | "cast" | "crew";

interface PersonRow {
  id: string;
  tmdb_id: number;
  name: string;
  biography: string;
  birthday: string | null;
  deathday: string | null;
  place_of_birth: string;
  profile_path: string | null;
  known_for_department: string;
  popularity: number | string;
  created_at: Date | string;
}

/** The person, or undefined. */
export async function findPerson(em: EntityManager, lookup: PersonLookup): Promise<PersonRecord | undefined> {
  if (lookup.by === "id" && !isDbId(lookup.id)) return undefined;
  const [where, param] = lookup.by === "id" ? ["p.id = ?::bigint", lookup.id] : ["p.tmdb_id = ?", lookup.tmdbId];
  const rows = await em.execute<PersonRow[]>(
    `select p.id::text as id, p.tmdb_id, p.name, p.biography, p.birthday::text as birthday, p.deathday::text as deathday,
            p.place_of_birth, p.profile_path, p.known_for_department, p.popularity, p.created_at
       from persons p where ${where}`,
    [param],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    tmdbId: r.tmdb_id,
    name: r.name,
    biography: r.biography,
    birthday: r.birthday,
    deathday: r.deathday,
    placeOfBirth: r.place_of_birth,
    profilePath: r.profile_path,
    knownForDepartment: r.known_for_department,
    popularity: Number(r.popularity),
    createdAt: new Date(r.created_at).toISOString(),
  };
}

/** The person's most popular movies (as actor or crew), at most KNOWN_FOR. */
export async function knownFor(em: EntityManager, personId: string): Promise<MovieRecord[]> {
  const rows = await em.execute<MovieRow[]>(
    `select ${MOVIE_COLUMNS} from movies m
      where m.id in (select movie_id from movie_cast where person_id = ?::bigint
                     union select movie_id from movie_crew where person_id = ?::bigint)
        and m.is_active
      order by m.popularity_score desc, m.id desc limit ${KNOWN_FOR}`,
    [personId, personId],
  );
  return withGenres(em, rows);
}

type CreditRow = MovieRow & { credit_kind: "cast" | "crew"; credit_id: string; character: string | null; order: number | null; job: string | null; department: string | null };

/** Sort tuple of a credit: dated releases first (newest first), then movie, role kind and credit row. */
type CreditKey = [number, string, string, number, string];
const creditKey = (r: CreditRow): CreditKey => [r.release_date === null ? 1 : 0, r.release_date ?? "", r.id, r.credit_kind === "cast" ? 0 : 1, r.credit_id];

function compareKeys(a: CreditKey, b: CreditKey): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] < b[1] ? 1 : -1; // newest release first
  const movie = BigInt(b[2]) - BigInt(a[2]); // newer movie rows first within a day
  if (movie !== 0n) return movie > 0n ? 1 : -1;
  if (a[3] !== b[3]) return a[3] - b[3];
  const credit = BigInt(a[4]) - BigInt(b[4]);
  return credit === 0n ? 0 : credit > 0n ? 1 : -1;
}

/**
 * A person's credits, newest release first. A person's credits are few (hundreds at most) and
 * served by the person_id indexes, so the page is cut in memory; the cursor is the full sort
 * tuple of the last credit, which keeps pages stable when credits are added meanwhile.
 */
export async function listPersonCredits(
  em: EntityManager,
  q: { personId: string; kind?: CreditKind; pageSize?: number; pageToken?: string },
): Promise<Page<PersonCreditRecord>> {
  const kind = q.kind ?? "all";
  const fp = fingerprint(["credits", q.personId, kind]);
  const cursor = decodeCursor(q.pageToken ?? "", fp);
  const size = pageSize(q.pageSize);
  if (!isDbId(q.personId)) return { items: [], nextPageToken: "" };
  const parts: string[] = [];
  const params: unknown[] = [];
  if (kind !== "crew") {
    parts.push(`select ${MOVIE_COLUMNS}, 'cast' as credit_kind, c.id::text as credit_id, c."character", c."order", null as job, null as department
                  from movie_cast c join movies m on m.id = c.movie_id where c.person_id = ?::bigint and m.is_active`);
    params.push(q.personId);
  }
  if (kind !== "cast") {
    parts.push(`select ${MOVIE_COLUMNS}, 'crew' as credit_kind, c.id::text as credit_id, null as "character", null as "order", c.job, c.department
                  from movie_crew c join movies m on m.id = c.movie_id where c.person_id = ?::bigint and m.is_active`);
    params.push(q.personId);
  }
  const rows = await em.execute<CreditRow[]>(parts.join(" union all "), params);
  let ordered = rows.map((r) => ({ r, key: creditKey(r) })).sort((a, b) => compareKeys(a.key, b.key));
  if (cursor) {
    let after: CreditKey;
    try {
      after = JSON.parse(String(cursor.key)) as CreditKey;
    } catch {
      after = [2, "", "0", 0, "0"];
    }
    ordered = ordered.filter((x) => compareKeys(x.key, after) > 0);
  }
  const page = ordered.slice(0, size);
  const movies = await withGenres(em, page.map((x) => x.r));
  const items: PersonCreditRecord[] = page.map(({ r }, i) =>
    r.credit_kind === "cast"
      ? { movie: movies[i]!, kind: "cast", character: r.character ?? "", order: r.order ?? 0 }
      : { movie: movies[i]!, kind: "crew", job: r.job ?? "", department: r.department ?? "" },
  );
  const last = page[page.length - 1];
  const nextPageToken = ordered.length > size && last ? encodeCursor({ key: JSON.stringify(last.key), id: last.r.credit_id }, fp) : "";
  return { items, nextPageToken };
}
