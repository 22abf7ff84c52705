/** Migration 0001, part 1: user, catalog and recommendation tables with their indexes (conventions in 0001-common.ts). */
import { VALUES, created, id, inList, updated } from "./0001-common.ts";

export const USER_TABLES = [
  `create table users (
    ${id} primary key,
    password varchar(128) not null,
    last_login timestamptz null,
    is_superuser boolean not null default false,
    username varchar(150) not null unique,
    first_name varchar(150) not null default '',
    last_name varchar(150) not null default '',
    email varchar(254) not null,
    is_staff boolean not null default false,
    is_active boolean not null default true,
    date_joined timestamptz not null default now(),
    date_of_birth date null,
    is_premium boolean not null default false,
    phone_number varchar(20) null,
    ${created},
    ${updated}
  )`,
  "create index idx_users_email on users (email)",
  // Case-insensitive uniqueness: 'Ann@x.io' and 'ann@x.io' are the same mailbox for sign-up and login.
  "create unique index idx_users_email_lower_unique on users (lower(email))",
  "create index idx_users_username on users (username)",
  "create index idx_users_is_active on users (is_active)",

  `create table user_profiles (
    ${id} primary key,
    user_id bigint not null unique,
    bio text not null default '',
    avatar varchar(200) null,
    preferred_language varchar(10) not null default 'en',
    timezone varchar(50) not null default 'UTC',
    country varchar(50) not null default '',
    ${created},
    ${updated},
    constraint fk_user_profiles_user foreign key (user_id) references users (id) on delete cascade
  )`,
  "create index idx_user_profiles_user on user_profiles (user_id)",
  "create index idx_user_profiles_country on user_profiles (country)",
];

export const CATALOG_TABLES = [
  `create table genres (
    ${id} primary key,
    tmdb_id integer not null unique,
    name varchar(100) not null unique,
    slug varchar(50) not null unique,
    ${created}
  )`,
  "create index idx_genres_tmdb_id on genres (tmdb_id)",
  "create index idx_genres_slug on genres (slug)",

  `create table movies (
    ${id} primary key,
    tmdb_id integer not null unique,
    imdb_id varchar(20) null unique,
    title varchar(200) not null,
    original_title varchar(200) not null,
    overview text not null default '',
    tagline varchar(300) not null default '',
    release_date date null,
    runtime integer null check (runtime >= 0),
    budget bigint null check (budget >= 0),
    revenue bigint null check (revenue >= 0),
    status varchar(20) not null default 'Released' ${inList("status", VALUES.movieStatus)},
    tmdb_rating numeric(3,1) null check (tmdb_rating between 0 and 10),
    tmdb_vote_count integer not null default 0 check (tmdb_vote_count >= 0),
    imdb_rating numeric(3,1) null check (imdb_rating between 0 and 10),
    our_rating numeric(3,1) null check (our_rating between 0 and 10),
    poster_path varchar(200) null,
    backdrop_path varchar(200) null,
    popularity_score double precision not null default 0 check (popularity_score >= 0),
    view_count integer not null default 0 check (view_count >= 0),
    like_count integer not null default 0 check (like_count >= 0),
    adult boolean not null default false,
    video boolean not null default false,
    original_language varchar(10) not null,
    is_active boolean not null default true,
    ${created},
    ${updated}
  )`,
  "create index idx_movies_tmdb_id on movies (tmdb_id)",
  "create index idx_movies_title on movies (title)",
  "create index idx_movies_release_date on movies (release_date desc)",
  "create index idx_movies_popularity on movies (popularity_score desc)",
  "create index idx_movies_rating on movies (tmdb_rating desc)",
  "create index idx_movies_status on movies (status)",
  "create index idx_movies_rating_popularity on movies (tmdb_rating desc, popularity_score desc)",
  "create index idx_movies_active on movies (id) where is_active = true",
  "create index idx_movies_title_search on movies using gin (to_tsvector('english', title))",
  "create index idx_movies_title_trgm on movies using gin (title gin_trgm_ops)",

  `create table movie_genres (
    ${id} primary key,
    movie_id bigint not null references movies (id) on delete cascade,
    genre_id bigint not null references genres (id) on delete cascade,
    constraint unique_movie_genre unique (movie_id, genre_id)
  )`,
  "create index idx_movie_genres_movie on movie_genres (movie_id)",
  "create index idx_movie_genres_genre on movie_genres (genre_id)",

  `create table user_favorite_genres (
    ${id} primary key,
    userprofile_id bigint not null references user_profiles (id) on delete cascade,
    genre_id bigint not null references genres (id) on delete cascade,
    constraint unique_user_favorite_genre unique (userprofile_id, genre_id)
  )`,
  "create index idx_user_fav_genres_profile on user_favorite_genres (userprofile_id)",
  "create index idx_user_fav_genres_genre on user_favorite_genres (genre_id)",

  `create table persons (
    ${id} primary key,
    tmdb_id integer not null unique,
    name varchar(200) not null,
    biography text not null default '',
    birthday date null,
    deathday date null,
    place_of_birth varchar(200) not null default '',
    profile_path varchar(200) null,
    known_for_department varchar(50) not null,
    popularity double precision not null default 0 check (popularity >= 0),
    ${created},
    constraint check_person_lifespan check (deathday is null or birthday is null or deathday >= birthday)
  )`,
  "create index idx_persons_tmdb_id on persons (tmdb_id)",
  "create index idx_persons_name on persons (name)",
  "create index idx_persons_department on persons (known_for_department)",
  "create index idx_persons_name_search on persons using gin (to_tsvector('english', name))",
  "create index idx_persons_name_trgm on persons using gin (name gin_trgm_ops)",

  `create table movie_cast (
    ${id} primary key,
    movie_id bigint not null references movies (id) on delete cascade,
    person_id bigint not null references persons (id) on delete cascade,
    "character" varchar(200) not null,
    "order" integer not null check ("order" >= 0),
    ${created}
  )`,
  "create index idx_movie_cast_movie on movie_cast (movie_id)",
  "create index idx_movie_cast_person on movie_cast (person_id)",
  'create index idx_movie_cast_order on movie_cast (movie_id, "order")',

  `create table movie_crew (
    ${id} primary key,
    movie_id bigint not null references movies (id) on delete cascade,
    person_id bigint not null references persons (id) on delete cascade,
    job varchar(100) not null,
    department varchar(50) not null,
    ${created}
  )`,
  "create index idx_movie_crew_movie on movie_crew (movie_id)",
  "create index idx_movie_crew_person on movie_crew (person_id)",
  "create index idx_movie_crew_job on movie_crew (job)",

  `create table production_companies (
    ${id} primary key,
    tmdb_id integer not null unique,
    name varchar(200) not null,
    logo_path varchar(200) null,
    origin_country varchar(10) not null,
    ${created}
  )`,

  `create table movie_production_companies (
    ${id} primary key,
    movie_id bigint not null references movies (id) on delete cascade,
    production_company_id bigint not null references production_companies (id) on delete cascade,
    constraint unique_movie_company unique (movie_id, production_company_id)
  )`,
  // Not in the design: without it, deleting a company scans the whole junction table.
  "create index idx_movie_companies_company on movie_production_companies (production_company_id)",
];

export const RECOMMENDATION_TABLES = [
  `create table user_movie_interactions (
    ${id} primary key,
    user_id bigint not null,
    movie_id bigint not null references movies (id) on delete cascade,
    interaction_type varchar(20) not null ${inList("interaction_type", VALUES.interactionType)},
    rating integer null,
    source varchar(30) not null default 'web' ${inList("source", VALUES.source)},
    "timestamp" timestamptz not null default now(),
    constraint unique_user_movie_interaction unique (user_id, movie_id, interaction_type),
    constraint check_rating_range check (rating is null or (rating >= 1 and rating <= 5)),
    -- a star rating belongs to a 'rating' interaction and every 'rating' interaction carries one
    constraint check_rating_matches_type check ((interaction_type = 'rating') = (rating is not null)),
    constraint fk_interactions_user foreign key (user_id) references users (id) on delete cascade
  )`,
  "create index idx_interactions_user_type on user_movie_interactions (user_id, interaction_type)",
  "create index idx_interactions_movie_type on user_movie_interactions (movie_id, interaction_type)",
  'create index idx_interactions_timestamp on user_movie_interactions ("timestamp" desc)',
  "create index idx_interactions_rating on user_movie_interactions (rating) where rating is not null",
  "create index idx_interactions_user_movie_type on user_movie_interactions (user_id, movie_id, interaction_type)",

  `create table user_recommendations (
    ${id} primary key,
    user_id bigint not null references users (id) on delete cascade,
    movie_id bigint not null references movies (id) on delete cascade,
    score double precision not null,
    algorithm varchar(50) not null check (algorithm <> ''),
    generated_at timestamptz not null default now(),
    clicked boolean not null default false,
    clicked_at timestamptz null,
    constraint unique_user_movie_algorithm unique (user_id, movie_id, algorithm),
    constraint check_score_range check (score >= 0.0 and score <= 1.0),
    constraint check_clicked_at check (clicked_at is null or clicked)
  )`,
  "create index idx_recommendations_user_score on user_recommendations (user_id, score desc)",
  "create index idx_recommendations_generated on user_recommendations (generated_at desc)",
  "create index idx_recommendations_algorithm on user_recommendations (algorithm)",
  "create index idx_recommendations_clicked on user_recommendations (clicked, clicked_at)",
  "create index idx_recommendations_user_score_generated on user_recommendations (user_id, score desc, generated_at desc)",
  // Not in the design: deleting a movie cascades here, which would otherwise scan the table.
  "create index idx_recommendations_movie on user_recommendations (movie_id)",

  `create table recommendation_feedback (
    ${id} primary key,
    user_id bigint not null references users (id) on delete cascade,
    recommendation_id bigint not null references user_recommendations (id) on delete cascade,
    feedback_type varchar(20) not null ${inList("feedback_type", VALUES.feedbackType)},
    comment text not null default '',
    "timestamp" timestamptz not null default now()
  )`,
  "create index idx_feedback_user on recommendation_feedback (user_id)",
  "create index idx_feedback_recommendation on recommendation_feedback (recommendation_id)",
  "create index idx_feedback_type on recommendation_feedback (feedback_type)",
];
