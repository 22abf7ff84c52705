/** Protobuf <-> catalogue records, for catalog.rpc.ts (the only files that see gen/). */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type CastMember,
  CastMemberSchema,
  CrewDepartment,
  type CrewMember,
  CrewMemberSchema,
  type Genre,
  GenreSchema,
  type Movie,
  MovieSchema,
  MovieStatus as PbStatus,
  type MovieSummary,
  MovieSummarySchema,
  type Person,
  type PersonCredit,
  PersonCreditSchema,
  PersonSchema,
  type ProductionCompany,
  ProductionCompanySchema,
} from "../../../gen/movierec/catalog/v1/catalog_pb.js";
import type { CastRecord, CompanyRecord, CrewRecord, GenreRecord, MovieRecord, MovieStatus, PersonCreditRecord, PersonRecord } from "./catalog-types.ts";
import type { MovieFields } from "./movie-validation.ts";

const STATUS_TO_PB: Record<MovieStatus, PbStatus> = {
  Rumored: PbStatus.RUMORED,
  Planned: PbStatus.PLANNED,
  "In Production": PbStatus.IN_PRODUCTION,
  "Post Production": PbStatus.POST_PRODUCTION,
  Released: PbStatus.RELEASED,
  Canceled: PbStatus.CANCELED,
};
const STATUS_FROM_PB = new Map<PbStatus, MovieStatus>(Object.entries(STATUS_TO_PB).map(([k, v]) => [v, k as MovieStatus]));

/** The domain status of an enum value; UNSPECIFIED gives `fallback`. */
export function statusFromPb(s: PbStatus, fallback: MovieStatus): MovieStatus {
  return STATUS_FROM_PB.get(s) ?? fallback;
}

/** The domain status of an enum value, or undefined for UNSPECIFIED (no filter). */
export function statusFilterFromPb(s: PbStatus): MovieStatus | undefined {
  return STATUS_FROM_PB.get(s);
}

const DEPARTMENTS: Record<string, CrewDepartment> = {
  Directing: CrewDepartment.DIRECTING,
  Writing: CrewDepartment.WRITING,
  Production: CrewDepartment.PRODUCTION,
  Sound: CrewDepartment.SOUND,
  Camera: CrewDepartment.CAMERA,
  Editing: CrewDepartment.EDITING,
  Art: CrewDepartment.ART,
  "Costume & Make-Up": CrewDepartment.COSTUME_AND_MAKE_UP,
  "Visual Effects": CrewDepartment.VISUAL_EFFECTS,
  Crew: CrewDepartment.CREW,
  Lighting: CrewDepartment.LIGHTING,
  Acting: CrewDepartment.ACTING,
};
const department = (d: string) => DEPARTMENTS[d] ?? CrewDepartment.UNSPECIFIED;

const ts = (iso: string) => timestampFromDate(new Date(iso));
const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export function genreToPb(g: GenreRecord): Genre {
  return create(GenreSchema, { id: g.id, tmdbId: g.tmdbId, name: g.name, slug: g.slug });
}

export function movieToPb(m: MovieRecord): Movie {
  return create(MovieSchema, {
    id: m.id,
    tmdbId: m.tmdbId,
    imdbId: m.imdbId ?? "",
    title: m.title,
    originalTitle: m.originalTitle,
    overview: m.overview,
    tagline: m.tagline,
    releaseDate: m.releaseDate ?? "",
    runtime: opt(m.runtime),
    budget: m.budget === null ? undefined : BigInt(m.budget),
    revenue: m.revenue === null ? undefined : BigInt(m.revenue),
    status: STATUS_TO_PB[m.status] ?? PbStatus.UNSPECIFIED,
    tmdbRating: opt(m.tmdbRating),
    tmdbVoteCount: m.tmdbVoteCount,
    imdbRating: opt(m.imdbRating),
    ourRating: opt(m.ourRating),
    posterPath: m.posterPath ?? "",
    backdropPath: m.backdropPath ?? "",
    popularityScore: m.popularityScore,
    viewCount: m.viewCount,
    likeCount: m.likeCount,
    adult: m.adult,
    video: m.video,
    originalLanguage: m.originalLanguage,
    createdAt: ts(m.createdAt),
    updatedAt: ts(m.updatedAt),
    genres: m.genres.map(genreToPb),
  });
}

export function movieSummaryToPb(m: MovieRecord): MovieSummary {
  return create(MovieSummarySchema, {
    id: m.id,
    tmdbId: m.tmdbId,
    title: m.title,
    releaseDate: m.releaseDate ?? "",
    posterPath: m.posterPath ?? "",
    tmdbRating: opt(m.tmdbRating),
    popularityScore: m.popularityScore,
    genres: m.genres.map(genreToPb),
  });
}

export function castToPb(c: CastRecord): CastMember {
  return create(CastMemberSchema, { personId: c.personId, personTmdbId: c.personTmdbId, name: c.name, character: c.character, order: c.order, profilePath: c.profilePath ?? "" });
}

export function crewToPb(c: CrewRecord): CrewMember {
  return create(CrewMemberSchema, { personId: c.personId, personTmdbId: c.personTmdbId, name: c.name, job: c.job, department: department(c.department), profilePath: c.profilePath ?? "" });
}

export function companyToPb(c: CompanyRecord): ProductionCompany {
  return create(ProductionCompanySchema, { id: c.id, tmdbId: c.tmdbId, name: c.name, logoPath: c.logoPath ?? "", originCountry: c.originCountry });
}

export function personToPb(p: PersonRecord): Person {
  return create(PersonSchema, {
    id: p.id,
    tmdbId: p.tmdbId,
    name: p.name,
    biography: p.biography,
    birthday: p.birthday ?? "",
    deathday: p.deathday ?? "",
    placeOfBirth: p.placeOfBirth,
    profilePath: p.profilePath ?? "",
    knownForDepartment: department(p.knownForDepartment),
    popularity: p.popularity,
    createdAt: ts(p.createdAt),
  });
}

export function creditToPb(c: PersonCreditRecord): PersonCredit {
  return create(PersonCreditSchema, {
    movie: movieSummaryToPb(c.movie),
    role:
      c.kind === "cast"
        ? { case: "cast", value: { character: c.character, order: c.order } }
        : { case: "crew", value: { job: c.job, department: department(c.department) } },
  });
}

/** The writable fields of a Movie message (empty strings and unset optionals mean "none"). */
export function movieFieldsFromPb(m: Movie, defaultStatus: MovieStatus): MovieFields {
  return {
    tmdbId: m.tmdbId,
    imdbId: m.imdbId === "" ? null : m.imdbId,
    title: m.title,
    originalTitle: m.originalTitle,
    overview: m.overview,
    tagline: m.tagline,
    releaseDate: m.releaseDate === "" ? null : m.releaseDate,
    runtime: m.runtime ?? null,
    budget: m.budget === undefined ? null : Number(m.budget),
    revenue: m.revenue === undefined ? null : Number(m.revenue),
    status: statusFromPb(m.status, defaultStatus),
    tmdbRating: m.tmdbRating ?? null,
    tmdbVoteCount: m.tmdbVoteCount,
    imdbRating: m.imdbRating ?? null,
    posterPath: m.posterPath === "" ? null : m.posterPath,
    backdropPath: m.backdropPath === "" ? null : m.backdropPath,
    adult: m.adult,
    video: m.video,
    originalLanguage: m.originalLanguage,
    genreIds: m.genres.map((g) => g.id),
  };
}
