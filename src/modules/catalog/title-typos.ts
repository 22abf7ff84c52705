/**
 * Typo tolerance for SearchMovies, word by word: each query word that is not a word of any title is corrected
 * against the title vocabulary (`movie_title_words`, migration 0012). Candidates are the nearest words by trigram
 * distance (GiST KNN, migration 0015) with similarity ≥ 0.2, which still catches "labirynth" → labyrinth at 0.33
 * and "matirx" → matrix at 0.27; then an edit distance decides: at most one edit for words of up to 4 letters, two beyond, where swapping two
 * neighbouring letters counts as one edit (optimal string alignment). The result is a short list of title
 * look-ups, each with the similarity that ranks its hits: the best correction of every word, then each
 * runner-up correction in turn.
 */
import type { EntityManager } from "@mikro-orm/postgresql";

/** Lower-case runs of letters and digits, 3 to 40 long: the split of migration 0012's triggers. */
export function titleWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length >= 3 && w.length <= 40);
}

/** Edits allowed in a word of this length. */
export const maxEdits = (word: string) => (word.length <= 4 ? 1 : 2);

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Int32Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** One look-up of titles holding every word of `words` (a to_tsquery text), ranked by `similarity` (0–1). */
export interface TitleLookup {
  readonly tsquery: string;
  readonly similarity: number;
}

/** Corrections kept per word, closest first. */
const ALTERNATIVES = 3;
/** Trigram candidates fetched per unknown word (nearest first), and the least similarity a candidate needs. */
const CANDIDATES = 40;
const MIN_SIMILARITY = 0.2;

interface Correction {
  readonly word: string;
  readonly similarity: number;
}

/**
 * One statement for a whole query (parameter: the words as a JSON array): whether some title holds each word, and
 * for a word none holds (4 letters or more) its nearest title words by trigram distance. Exported for the EXPLAIN
 * check that the GiST index serves the KNN order.
 */
export const TYPO_LOOKUP_SQL = `select q.w, q.known,
        case when not q.known and length(q.w) >= 4 then
          array(select c.word from (select word, word <-> q.w as d from movie_title_words order by d limit ${CANDIDATES}) c
                 where similarity(c.word, q.w) >= ${MIN_SIMILARITY} order by c.d, c.word)
        end as candidates
   from (select w, exists (select 1 from movie_title_words k where k.word = w) as known
           from jsonb_array_elements_text(?::jsonb) as w) q`;

/**
 * The title look-ups that correct the query's misspelt words, or [] when every word is a title word (the
 * exact search covers it) or nothing close enough exists. Words without any correction are left out of the
 * look-ups (they may name a person, say) but lower the similarity.
 */
export async function typoLookups(em: EntityManager, query: string): Promise<TitleLookup[]> {
  const words = [...new Set(titleWords(query))].slice(0, 8);
  if (words.length === 0) return [];
  // One statement: which words some title holds (a primary-key look-up each) and, for the others, their nearest
  // title words by trigram distance through the GiST index (migration 0015), so a correctly spelt query costs
  // one look-up and a misspelt one no more round trips. The floor compares similarity() as `%` did: distance is a
  // real, and 1 - 0.2 as a real is just above 0.8, which dropped words at exactly 0.2 ("lboel" → lobel).
  const found = await em.execute<{ w: string; known: boolean; candidates: string[] | null }[]>(TYPO_LOOKUP_SQL, [JSON.stringify(words)]);
  const known = new Set(found.filter((r) => r.known).map((r) => r.w));
  if (found.every((r) => r.known || r.candidates === null)) return [];
  const rows = found.flatMap((r) => (r.candidates ?? []).map((word) => ({ q: r.w, word })));
  const perWord: Correction[][] = words.map((w) => {
    if (known.has(w)) return [{ word: w, similarity: 1 }];
    return rows
      .filter((r) => r.q === w)
      .map((r) => r.word)
      .map((c) => ({ word: c, edits: editDistance(w, c) }))
      .filter((c) => c.edits <= maxEdits(w))
      .sort((a, b) => a.edits - b.edits || a.word.localeCompare(b.word))
      .slice(0, ALTERNATIVES)
      .map((c) => ({ word: c.word, similarity: 1 - c.edits / Math.max(w.length, c.word.length) }));
  });
  const misspelt = perWord.some((cs, i) => cs.length > 0 && cs[0]!.word !== words[i]);
  if (!misspelt) return [];
  const best = perWord.map((cs) => cs[0]);
  const lookup = (choice: (Correction | undefined)[]): TitleLookup => {
    const present = choice.filter((c): c is Correction => c !== undefined);
    return {
      // Words are letters and digits only, so quoting each as a lexeme is safe.
      tsquery: present.map((c) => `'${c.word}'`).join(" & "),
      similarity: choice.reduce((sum, c) => sum + (c?.similarity ?? 0), 0) / choice.length,
    };
  };
  const out = [lookup(best)];
  perWord.forEach((cs, i) => cs.slice(1).forEach((alt) => out.push(lookup(best.map((b, j) => (j === i ? alt : b))))));
  return out;
}
