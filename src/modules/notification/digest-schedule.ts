/**
 * When weekly digests fall due: pure functions over time zones. A scheduler tick covers the instants (from, to];
 * in each zone that maps to a local window of (weekday, minute of day), and users whose (digest_day, digest_time)
 * lies in it are due. Local time is computed by ICU, so DST is handled as the zone's rules say:
 * - spring forward (02:00 → 03:00): the tick that crosses the gap has the local window (01:59, 03:00], so a digest
 *   set in the skipped hour goes out at 03:00, once;
 * - fall back (03:00 → 02:00): local time runs backwards, that tick's window is empty, and the repeated hour is
 *   covered again; the idempotency key (user + ISO week) stops the second digest.
 */

export interface LocalTime {
  /** ISO weekday, 1 = Monday. */
  isoDay: number;
  /** Minutes since local midnight. */
  minute: number;
  /** Local calendar date, "YYYY-MM-DD". */
  date: string;
}

/** A due window: users with `digest_day = day` and `after < minute(digest_time) <= until`. */
export interface DueWindow {
  day: number;
  afterMinute: number;
  untilMinute: number;
  /** The local date of the window, for the ISO week of the idempotency key. */
  date: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** Local weekday, minute and date of an instant in `tz`. */
export function localTime(at: Date, tz: string): LocalTime {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", weekday: "short", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    formatters.set(tz, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(at)) p[part.type] = part.value;
  return { isoDay: WEEKDAYS[p.weekday!]!, minute: Number(p.hour) * 60 + Number(p.minute), date: `${p.year}-${p.month}-${p.day}` };
}

const dayNumber = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);

/** The local windows of the instants (from, to] in `tz` (empty when local time went backwards). */
export function dueWindows(from: Date, to: Date, tz: string): DueWindow[] {
  const a = localTime(from, tz);
  const b = localTime(to, tz);
  const aAbs = dayNumber(a.date) * 1440 + a.minute;
  const bAbs = dayNumber(b.date) * 1440 + b.minute;
  if (bAbs <= aAbs) return [];
  if (a.date === b.date) return [{ day: a.isoDay, afterMinute: a.minute, untilMinute: b.minute, date: a.date }];
  // Across midnight (ticks are far shorter than a day; a longer gap is cut to the last day).
  const windows: DueWindow[] = [];
  if (bAbs - aAbs < 1440) windows.push({ day: a.isoDay, afterMinute: a.minute, untilMinute: 1439, date: a.date });
  windows.push({ day: b.isoDay, afterMinute: -1, untilMinute: b.minute, date: b.date });
  return windows;
}

/** ISO week of a calendar date, "2025-W09": the digest's idempotency period. */
export function isoWeek(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day); // the Thursday of this week decides the year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/** The last second of a minute of the day, "HH:MM:59": `digest_time > it` means a later minute. */
export function minuteToTime(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}:59`;
}
