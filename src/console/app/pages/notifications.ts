/** Notifications: templates with an editor and live preview, the delivery funnel, failures per day, recent failures with reasons. */
import { NotificationStatus, NotificationType } from "../../../../gen/movierec/notification/v1/notification_pb.js";
import type { Template } from "../../../../gen/movierec/notification/v1/notification_pb.js";
import { api, day, describeError } from "../api.ts";
import { chart } from "../charts.ts";
import { errorBox, h, panel, render, table } from "../dom.ts";

/** What the live preview fills a template with (the variables digest and alert emails are given). */
const SAMPLE = { user: { first_name: "Ada", username: "ada" }, movie: { title: "Sample movie" }, count: 3 };

function editor(t: Template, into: HTMLElement): void {
  const subject = h("input", { name: "subject", value: t.subject });
  const html = h("textarea", { name: "html", rows: 8 }, t.htmlContent);
  const text = h("textarea", { name: "text", rows: 6 }, t.textContent);
  const preview = h("div", { class: "preview", "data-testid": "template-preview" });
  const message = h("div", {});
  let timer: number | undefined;
  const refresh = async () => {
    try {
      const res = await api.notification.previewTemplate({ source: { case: "content", value: { subject: subject.value, htmlContent: html.value, textContent: text.value } }, sampleData: SAMPLE });
      // The preview is shown as text in a sandboxed frame: template HTML never runs in the console's origin.
      const frame = h("iframe", { sandbox: "", title: "preview", srcdoc: res.html });
      render(preview, h("strong", {}, res.subject), frame, h("pre", {}, res.text), res.missingVariables.length ? h("p", {}, `missing: ${res.missingVariables.join(", ")}`) : null);
    } catch (e) {
      render(preview, errorBox(describeError(e)));
    }
  };
  const onInput = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  };
  for (const el of [subject, html, text]) el.addEventListener("input", onInput);
  const save = async () => {
    try {
      await api.notification.updateTemplate({
        template: { id: t.id, subject: subject.value, htmlContent: html.value, textContent: text.value },
        updateMask: { paths: ["subject", "html_content", "text_content"] },
      });
      render(message, h("p", { "data-testid": "saved" }, "saved"));
    } catch (e) {
      render(message, errorBox(describeError(e)));
    }
  };
  render(into, h("h3", {}, t.name), subject, html, text, h("button", { onclick: save }, "Save"), message, preview);
  void refresh();
}

async function templatesPanel(): Promise<HTMLElement> {
  const list = h("div", { "data-testid": "templates" });
  const edit = h("div", { "data-testid": "template-editor" });
  const load = async (pageToken = "") => {
    try {
      const res = await api.notification.listTemplates({ pageSize: 20, pageToken });
      render(
        list,
        table(["name", "type", "active", ""], res.templates.map((t) => [t.name, String(t.templateType), t.isActive ? "yes" : "no", h("button", { onclick: () => editor(t, edit) }, "Edit")]), "template-table"),
        res.nextPageToken ? h("button", { onclick: () => load(res.nextPageToken) }, "Next page") : null,
      );
    } catch (e) {
      render(list, errorBox(describeError(e)));
    }
  };
  await load();
  return panel("Templates", list, edit);
}

async function funnelPanel(): Promise<HTMLElement> {
  try {
    const { stages } = await api.analytics.getNotificationFunnel({ startDate: day(29), endDate: day(0) });
    const sum = (k: "sent" | "delivered" | "opened" | "clicked" | "failed") => stages.reduce((n, s) => n + s[k], 0);
    const stats = await api.notification.getDeliveryStats({ startDate: day(13), endDate: day(0) });
    // Per-day rows (`daily`): the whole-range rows in `stats` carry no date.
    const failures = stats.daily.filter((s) => s.failed > 0);
    return panel(
      "Delivery (last 30 days)",
      chart("bar", ["sent", "delivered", "opened", "clicked", "failed"], [{ label: "notifications", data: [sum("sent"), sum("delivered"), sum("opened"), sum("clicked"), sum("failed")] }], "chart-funnel"),
      table(["type", "sent", "delivered", "opened", "clicked", "failed"], stages.map((s) => [NotificationType[s.type] ?? "?", s.sent, s.delivered, s.opened, s.clicked, s.failed])),
      h("h4", {}, "Failures per day"),
      table(["day", "type", "failed", "of"], failures.map((s) => [s.date, NotificationType[s.type] ?? "?", s.failed, s.total]), "failures"),
    );
  } catch (e) {
    return panel("Delivery", errorBox(describeError(e)));
  }
}

/** Recent delivery failures of every user with the provider's reason, newest first, paged with the API's tokens. */
async function failuresPanel(): Promise<HTMLElement> {
  const out = h("div", { "data-testid": "recent-failures" });
  const load = async (pageToken = "") => {
    try {
      const res = await api.notification.listNotifications({ allUsers: true, status: NotificationStatus.FAILED, pageSize: 20, pageToken });
      render(
        out,
        table(
          ["when", "user", "channel", "recipient", "subject", "reason"],
          res.notifications.map((n) => [
            n.createdAt ? new Date(Number(n.createdAt.seconds) * 1000).toISOString().slice(0, 16).replace("T", " ") : "",
            n.userId, NotificationType[n.type] ?? "?", n.recipient, n.subject, n.errorMessage,
          ]),
          "failure-table",
        ),
        res.notifications.length === 0 ? h("p", {}, "no failures") : null,
        res.nextPageToken ? h("button", { onclick: () => load(res.nextPageToken) }, "Older") : null,
      );
    } catch (e) {
      render(out, errorBox(describeError(e)));
    }
  };
  await load();
  return panel("Recent failures", out);
}

export async function notificationsPage(): Promise<HTMLElement> {
  return h("div", { "data-testid": "page-notifications" }, await templatesPanel(), await funnelPanel(), await failuresPanel());
}
