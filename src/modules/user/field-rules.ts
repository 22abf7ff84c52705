/**
 * Checks of account and profile values that protovalidate cannot express (real calendar dates, known time zones,
 * assigned country codes, canonical language tags, the password policy). Each failure names its field.
 */
import { InvalidInputError } from "../../platform/errors.ts";

const regionNames = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });

export const USERNAME = /^[A-Za-z0-9_.@+-]{3,150}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const E164 = /^\+[1-9][0-9]{3,14}$/;

/** Passwords: 10 to 128 characters, neither containing the email nor the username (of 4+ characters), nor equal to it. */
export function checkPassword(password: string, who: { username: string; email: string }, field = "password"): void {
  if (password.length < 10) throw new InvalidInputError("must be at least 10 characters", field);
  if (password.length > 128) throw new InvalidInputError("must be at most 128 characters", field);
  const p = password.toLowerCase();
  const u = who.username.toLowerCase();
  const email = who.email.toLowerCase();
  if ((email !== "" && p.includes(email)) || p === u || (u.length >= 4 && p.includes(u))) {
    throw new InvalidInputError("must not be or contain the username or email", field);
  }
  if (new Set(password).size < 4) throw new InvalidInputError("is too simple (use at least 4 different characters)", field);
}

export function checkUsername(username: string): void {
  if (!USERNAME.test(username)) throw new InvalidInputError("must be 3-150 letters, digits or _.@+-", "username");
}

export function checkEmail(email: string): void {
  if (email.length > 254 || !EMAIL.test(email)) throw new InvalidInputError("is not a valid email address", "email");
}

/** `YYYY-MM-DD`, a real date, not in the future and not before 1900. */
export function checkDateOfBirth(value: string, field = "date_of_birth"): void {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!d || d.toISOString().slice(0, 10) !== value) throw new InvalidInputError("must be a calendar date YYYY-MM-DD", field);
  if (d.getTime() > Date.now() || d.getUTCFullYear() < 1900) throw new InvalidInputError("must be between 1900-01-01 and today", field);
}

export function checkPhone(value: string, field = "phone_number"): void {
  if (!E164.test(value)) throw new InvalidInputError("must be an E.164 number such as +14155550123", field);
}

/** A well-formed BCP-47 tag; returns its canonical form ("pt-br" → "pt-BR"). */
export function canonicalLanguage(value: string, field = "profile.preferred_language"): string {
  try {
    const [tag] = Intl.getCanonicalLocales(value);
    if (tag && tag.length <= 10) return tag;
  } catch {
    // RangeError: not a well-formed tag
  }
  throw new InvalidInputError("must be a BCP-47 language tag of at most 10 characters, such as en or pt-BR", field);
}

/** A time zone the runtime's IANA database knows. */
export function checkTimezone(value: string, field = "profile.timezone"): void {
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    if (value.length <= 50) return;
  } catch {
    // RangeError: unknown zone
  }
  throw new InvalidInputError("must be an IANA time zone such as Europe/Paris", field);
}

/** An assigned ISO-3166 alpha-2 code. */
export function checkCountry(value: string, field = "profile.country"): void {
  if (!/^[A-Z]{2}$/.test(value) || value === "ZZ" || regionNames.of(value) === undefined) {
    throw new InvalidInputError("must be an ISO-3166 alpha-2 country code such as FR", field);
  }
}

export function checkAvatarUrl(value: string, field = "profile.avatar_url"): void {
  let ok = false;
  try {
    const u = new URL(value);
    ok = (u.protocol === "https:" || u.protocol === "http:") && value.length <= 200;
  } catch {
    ok = false;
  }
  if (!ok) throw new InvalidInputError("must be an absolute http(s) URL of at most 200 characters", field);
}
