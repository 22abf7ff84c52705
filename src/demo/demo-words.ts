/**
 * Word lists for the generated demo catalogue. Everything here is invented on
 * purpose: the demo must never be mistaken for real TMDb data, and nothing is
 * downloaded. Only the genre list is real (TMDb's ids and names), so that a
 * later TMDb import and the demo agree on genres.
 */

/** TMDb's 19 movie genres: real ids, names, and URL slugs. */
export const TMDB_GENRES: ReadonlyArray<{ tmdbId: number; name: string; slug: string }> = [
  { tmdbId: 28, name: "Action", slug: "action" },
  { tmdbId: 12, name: "Adventure", slug: "adventure" },
  { tmdbId: 16, name: "Animation", slug: "animation" },
  { tmdbId: 35, name: "Comedy", slug: "comedy" },
  { tmdbId: 80, name: "Crime", slug: "crime" },
  { tmdbId: 99, name: "Documentary", slug: "documentary" },
  { tmdbId: 18, name: "Drama", slug: "drama" },
  { tmdbId: 10751, name: "Family", slug: "family" },
  { tmdbId: 14, name: "Fantasy", slug: "fantasy" },
  { tmdbId: 36, name: "History", slug: "history" },
  { tmdbId: 27, name: "Horror", slug: "horror" },
  { tmdbId: 10402, name: "Music", slug: "music" },
  { tmdbId: 9648, name: "Mystery", slug: "mystery" },
  { tmdbId: 10749, name: "Romance", slug: "romance" },
  { tmdbId: 878, name: "Science Fiction", slug: "science-fiction" },
  { tmdbId: 10770, name: "TV Movie", slug: "tv-movie" },
  { tmdbId: 53, name: "Thriller", slug: "thriller" },
  { tmdbId: 10752, name: "War", slug: "war" },
  { tmdbId: 37, name: "Western", slug: "western" },
];

/** Genres that plausibly appear together, so generated movies read like real genre mixes. */
export const GENRE_COMPANIONS: Readonly<Record<number, readonly number[]>> = {
  28: [12, 53, 80, 878, 10752],
  12: [28, 14, 10751, 878, 37],
  16: [10751, 35, 14, 12],
  35: [10749, 18, 10751, 80],
  80: [53, 18, 9648, 28],
  99: [36, 10402, 10752],
  18: [10749, 36, 80, 10402],
  10751: [16, 35, 12, 14],
  14: [12, 16, 10751, 27],
  36: [18, 10752, 99],
  27: [53, 9648, 14],
  10402: [18, 10749, 35, 99],
  9648: [53, 80, 27, 18],
  10749: [35, 18, 10402],
  878: [28, 12, 53, 9648],
  10770: [18, 35, 10751, 9648],
  53: [80, 9648, 28, 27],
  10752: [36, 18, 28],
  37: [12, 28, 18],
};

/** Keywords by genre (TMDb-style tags), feeding the content-based signal. */
export const GENRE_KEYWORDS: Readonly<Record<number, readonly string[]>> = {
  28: ["chase", "heist", "martial arts", "bodyguard"],
  12: ["treasure hunt", "expedition", "road trip", "lost city"],
  16: ["talking animals", "hand-drawn", "toy come to life"],
  35: ["mistaken identity", "wedding", "workplace comedy", "road trip"],
  80: ["heist", "detective", "organized crime", "con artist"],
  99: ["interview", "archival footage", "nature"],
  18: ["coming of age", "family secrets", "small town", "redemption"],
  10751: ["friendship", "holiday", "talking animals", "siblings"],
  14: ["magic", "dragon", "curse", "portal"],
  36: ["based on a legend", "royal court", "19th century"],
  27: ["haunted house", "creature", "isolation", "curse"],
  10402: ["band", "orchestra", "talent contest"],
  9648: ["whodunit", "missing person", "secret society", "amnesia"],
  10749: ["first love", "second chance", "letters", "wedding"],
  878: ["space station", "time travel", "artificial intelligence", "dystopia"],
  10770: ["small town", "holiday", "reunion"],
  53: ["conspiracy", "hostage", "stalker", "amnesia"],
  10752: ["resistance", "submarine", "homefront"],
  37: ["frontier town", "gold rush", "outlaw", "revenge"],
};

export const TITLE_ADJECTIVES = [
  "Velvet", "Hollow", "Silver", "Crimson", "Quiet", "Paper", "Midnight", "Copper", "Glass", "Forgotten",
  "Neon", "Amber", "Wandering", "Electric", "Frozen", "Golden", "Borrowed", "Restless", "Iron", "Distant",
  "Salt", "Clockwork", "Moonlit", "Upside-Down",
];

export const TITLE_NOUNS = [
  "Lighthouse", "Orchard", "Compass", "Harbor", "Kingdom", "Lantern", "Frontier", "Carousel", "Archive",
  "Satellite", "Garden", "Signal", "Mirror", "Canyon", "Tide", "Circus", "Engine", "Meridian", "Parade",
  "Observatory", "Labyrinth", "Ferry", "Overture", "Monsoon", "Menagerie", "Almanac",
];

/** Invented places; none is a real town. */
export const PLACES = [
  "Marrowvale", "Port Elsin", "Quillhaven", "New Calder", "Brindlemoor", "Saltmere", "Kestrel Bay",
  "Vantor City", "Lowmarsh", "Thistledown", "Arkwright Falls", "Oddsby", "Fernwick-on-Sea", "Grayhollow",
];

export const TITLE_PATTERNS: ReadonlyArray<(w: { adj: string; noun: string; noun2: string; place: string }) => string> = [
  (w) => `The ${w.adj} ${w.noun}`,
  (w) => `${w.noun} of ${w.place}`,
  (w) => `Return to ${w.place}`,
  (w) => `The Last ${w.noun} of ${w.place}`,
  (w) => `A ${w.noun} in ${w.place}`,
  (w) => `${w.adj} ${w.noun}`,
  (w) => `The ${w.noun} and the ${w.noun2}`,
  (w) => `Beneath the ${w.adj} ${w.noun}`,
  (w) => `${w.place} After Dark`,
];

export const ROLES = [
  "retired cartographer", "reluctant lighthouse keeper", "young clockmaker", "disgraced pastry chef",
  "stubborn astronomer", "small-town detective", "traveling puppeteer", "rookie ferry pilot",
  "exiled violinist", "night-shift librarian", "former circus acrobat", "overworked weather forecaster",
  "junior archivist", "widowed beekeeper", "teenage radio operator", "washed-up stage magician",
];

export const INCIDENTS = [
  "discovers a map that redraws itself every night",
  "inherits a circus that has not moved in forty years",
  "receives letters postmarked ten years in the future",
  "finds a satellite that only broadcasts lullabies",
  "wakes up to find the whole town has forgotten their name",
  "is hired to guard a painting that nobody is allowed to see",
  "stumbles on a ferry timetable listing a stop that does not exist",
  "wins a house at auction that keeps adding rooms",
  "hears a song on the radio that no one else can hear",
  "agrees to deliver a sealed crate across the mountains",
  "uncovers a ledger of debts owed by every family in town",
  "is mistaken for the heir of a vanished fortune",
];

export const COMPLICATIONS = [
  "With a rival on their trail",
  "As the winter storms close in",
  "Helped by an unlikely band of misfits",
  "While the whole town watches",
  "With only a borrowed bicycle and a stubborn dog",
  "As old friends turn into suspects",
  "Pursued by a company that wants the secret buried",
];

export const GOALS = [
  "they have seven days to set things right",
  "they must decide what they are willing to lose",
  "they race to reach the coast before the tide turns",
  "they learn that some promises outlive the people who made them",
  "they must find out who is rewriting the past",
  "they have until the festival to win everyone back",
];

export const TAGLINES = [
  "Some doors only open once.",
  "Every map lies a little.",
  "The tide remembers.",
  "Nobody leaves the parade early.",
  "Home is further than it looks.",
  "The last light is the brightest.",
  "Trust the signal.",
  "Not every secret wants to be found.",
  "One town. Two truths.",
  "It was never about the treasure.",
  "Wind the clock. Change the story.",
  "Listen closer.",
];

export const FIRST_NAMES = [
  "Ilsa", "Tomas", "Maren", "Dorian", "Odile", "Caspar", "Wren", "Anselm", "Liesl", "Bram", "Noemi", "Felix",
  "Saoirse", "Ruben", "Ottilie", "Hugo", "Yara", "Emil", "Juno", "Lorcan", "Pia", "Matthias", "Rosalind",
  "Idris", "Clementine", "Viggo", "Esme", "Teodor", "Amara", "Benedikt",
];

export const LAST_NAMES = [
  "Marchetti", "Halloran", "Vasquez-Lind", "Okonkwo", "Brightwater", "Castellane", "Nyberg", "Ashdown",
  "Delacroix-Webb", "Fenwick", "Moreau", "Tanaka-Reyes", "Quill", "Everhart", "Lindqvist", "Aldana",
  "Penhallow", "Sørby", "Gallo", "Whitlock", "Achterberg", "Rourke", "Valdane", "Kowalczyk",
];

/** Character names are separate from people's names, so cast lists never look like "Ilsa plays Ilsa". */
export const CHARACTER_NAMES = [
  "Captain Merrow", "Agnes Pell", "The Archivist", "Old Jory", "Detective Sable", "Mina Crowe", "Father Aldous",
  "Lucky Fenn", "Professor Harrowgate", "Tilda", "The Ferryman", "Marguerite", "Young Otto", "Sheriff Dunmore",
  "Nell Ashby", "The Stranger", "Ada Voss", "Barnaby", "Countess Irvine", "Pip", "Dr. Calloway", "Rosa Linden",
  "The Conductor", "Silas Wren", "Mayor Blythe", "Hettie", "Quartermaster Vane", "Lottie Marsh",
];

/** Invented production companies with an origin country (ISO 3166-1 alpha-2). */
export const COMPANIES: ReadonlyArray<{ name: string; originCountry: string }> = [
  { name: "Lanternfish Pictures", originCountry: "US" },
  { name: "Northlight Foundry", originCountry: "GB" },
  { name: "Paper Moon Studios", originCountry: "US" },
  { name: "Brindle & Sons Films", originCountry: "IE" },
  { name: "Cinéma du Phare", originCountry: "FR" },
  { name: "Kestrel Media Group", originCountry: "CA" },
  { name: "Studio Hoshizora", originCountry: "JP" },
  { name: "Marea Producciones", originCountry: "ES" },
  { name: "Velvet Compass Entertainment", originCountry: "US" },
  { name: "Fjordlys Film", originCountry: "NO" },
];

/** Original languages, weighted toward English as in TMDb's catalogue. */
export const LANGUAGES = ["en", "en", "en", "en", "en", "fr", "es", "ja", "ko", "de", "it", "no"];
