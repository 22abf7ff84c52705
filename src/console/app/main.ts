/** The operator console: staff sign in, then four pages, each built from the API's RPCs (nothing else). */
import { api, describeError, setToken, signedIn } from "./api.ts";
import { errorBox, h, render } from "./dom.ts";
import { cataloguePage } from "./pages/catalogue.ts";
import { notificationsPage } from "./pages/notifications.ts";
import { overviewPage } from "./pages/overview.ts";
import { recommendationsPage } from "./pages/recommendations.ts";

const PAGES: Record<string, { title: string; build: () => Promise<HTMLElement> }> = {
  overview: { title: "Overview", build: overviewPage },
  recommendations: { title: "Recommendations", build: recommendationsPage },
  catalogue: { title: "Catalogue", build: cataloguePage },
  notifications: { title: "Notifications", build: notificationsPage },
};

const app = document.getElementById("app")!;
let staff = false;

function signInForm(message?: string): HTMLElement {
  const login = h("input", { name: "login", placeholder: "username or email", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", placeholder: "password", autocomplete: "current-password", required: true });
  const submit = async (ev: Event) => {
    ev.preventDefault();
    try {
      const res = await api.user.login({ login: login.value, password: password.value });
      setToken(res.accessToken);
      const me = await api.user.getMe({});
      // A non-staff account gets in, and every staff-only panel then shows the server's own refusal.
      staff = me.user?.isStaff === true;
      window.location.hash = window.location.hash || "#overview";
      await show();
    } catch (e) {
      render(app, signInForm(describeError(e)));
    }
  };
  return h("form", { class: "sign-in", "data-testid": "sign-in", onsubmit: submit }, h("h1", {}, "movierec console"), login, password, h("button", { type: "submit" }, "Sign in"), message ? errorBox(message) : null);
}

async function show(): Promise<void> {
  if (!signedIn()) return render(app, signInForm());
  const name = window.location.hash.slice(1) in PAGES ? window.location.hash.slice(1) : "overview";
  const nav = h("nav", {}, ...Object.entries(PAGES).map(([key, p]) => h("a", { href: `#${key}`, class: key === name ? "active" : undefined }, p.title)), h("a", { href: "#", onclick: () => (setToken(""), (staff = false), void show()) }, "Sign out"));
  const main = h("main", {}, h("p", {}, "Loading…"));
  const notice = staff ? null : h("p", { class: "error", "data-testid": "not-staff" }, "Signed in without staff rights: the server refuses the staff-only panels.");
  render(app, nav, notice, main);
  render(main, await PAGES[name]!.build());
}

window.addEventListener("hashchange", () => void show());
void show();
