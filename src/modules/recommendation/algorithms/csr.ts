/**
 * Compressed sparse row matrices: the one sparse layout every algorithm shares. Rows are users (or items for
 * item–item matrices), columns are dense item indices; values are float32, which halves memory at the design's
 * volume (10 million interactions) and is plenty for scores.
 */

export interface Csr {
  readonly rows: number;
  readonly cols: number;
  /** Row r spans `indices/data[indptr[r] .. indptr[r + 1])`, column indices ascending. */
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly data: Float32Array;
}

/** Builds a CSR matrix from coordinate triples; duplicates (same row and column) are summed. */
export function csrFromCoo(rows: number, cols: number, r: ArrayLike<number>, c: ArrayLike<number>, v: ArrayLike<number>): Csr {
  const n = r.length;
  for (let k = 0; k < n; k++) {
    if (!(r[k] >= 0 && r[k] < rows && c[k] >= 0 && c[k] < cols)) throw new RangeError(`entry ${k} (${r[k]}, ${c[k]}) outside ${rows}x${cols}`);
  }
  // Two stable counting sorts (by column, then by row) leave every row sorted by column in O(nnz).
  const byCol = countingOrder(c, cols, null);
  const order = countingOrder(r, rows, byCol);
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(n);
  const data = new Float32Array(n);
  let out = 0;
  let k = 0;
  for (let i = 0; i < rows; i++) {
    indptr[i] = out;
    while (k < n && r[order[k]] === i) {
      const e = order[k++];
      if (out > indptr[i] && indices[out - 1] === c[e]) {
        data[out - 1] += v[e];
      } else {
        indices[out] = c[e];
        data[out] = v[e];
        out++;
      }
    }
  }
  indptr[rows] = out;
  return { rows, cols, indptr, indices: indices.slice(0, out), data: data.slice(0, out) };
}

/** Stable counting sort of entry numbers by `key` (visiting entries in `within` order when given). */
function countingOrder(key: ArrayLike<number>, buckets: number, within: Int32Array | null): Int32Array {
  const n = key.length;
  const start = new Int32Array(buckets + 1);
  for (let k = 0; k < n; k++) start[key[k] + 1]++;
  for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
  const out = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    const e = within === null ? q : within[q];
    out[start[key[e]]++] = e;
  }
  return out;
}

/** The transpose (items × users from users × items), column indices ascending. */
export function transpose(m: Csr): Csr {
  const nnz = m.indptr[m.rows];
  const indptr = new Int32Array(m.cols + 1);
  for (let p = 0; p < nnz; p++) indptr[m.indices[p] + 1]++;
  for (let j = 0; j < m.cols; j++) indptr[j + 1] += indptr[j];
  const fill = indptr.slice(0, m.cols);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  for (let i = 0; i < m.rows; i++) {
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) {
      const q = fill[m.indices[p]]++;
      indices[q] = i;
      data[q] = m.data[p];
    }
  }
  return { rows: m.cols, cols: m.rows, indptr, indices, data };
}

/** Number of stored entries in each column. */
export function columnCounts(m: Csr): Int32Array {
  const out = new Int32Array(m.cols);
  const nnz = m.indptr[m.rows];
  for (let p = 0; p < nnz; p++) out[m.indices[p]]++;
  return out;
}

/** A dense copy (tests and debugging only). */
export function toDense(m: Csr): number[][] {
  const out = Array.from({ length: m.rows }, () => new Array<number>(m.cols).fill(0));
  for (let i = 0; i < m.rows; i++) for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) out[i][m.indices[p]] = m.data[p];
  return out;
}
