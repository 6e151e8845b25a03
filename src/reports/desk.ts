import type { Logger } from "pino";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import {
  identityOf,
  reportLabel,
  sameReport,
  type ReportCard,
  type ReportDeletion,
  type ReportIdentity,
  type ReportListFilter,
  type ReportOutcome,
  type ReportRef,
  type ReusedBy,
  type StoredReport,
} from "../model/reports.js";
import { renderDigest, renderReportCard } from "../render/reports.js";
import type { AdminError, SynapseAdminClient } from "../synapse/adminClient.js";
import type { Clock } from "../util/clock.js";
import { err, ok, type Result } from "../util/result.js";
import { buildCard, FULL_CONTEXT_LIMIT, CARD_CONTEXT_LIMIT } from "./enrich.js";
import { eventReportFacts, userReportFacts } from "./lists.js";
import type { ReportStore } from "./store.js";

type Changed = Extract<ReportOutcome, { kind: "report-changed" }>;

/** What the report commands (and reactions on cards) may do with reports of either kind. */
export interface ReportDesk {
  list(filter: ReportListFilter, from: number, limit: number): { readonly reports: readonly StoredReport[]; readonly total: number };
  /** The report's card with fresh context; undefined when Warden never took such a report. */
  card(ref: ReportRef): Promise<ReportCard | undefined>;
  /** The report whose card (or digest card) is this event, if exactly one. */
  reportForCard(eventId: string): StoredReport | undefined;
  resolve(ref: ReportRef, by: string, how: "done" | "dismissed"): Promise<Result<Changed, string>>;
  acknowledge(ref: ReportRef, by: string): Promise<Result<Changed, string>>;
}

export type DeskAdmin = Pick<SynapseAdminClient, "deleteEventReport" | "eventReport" | "eventContext" | "eventReports" | "userReports" | "userReport" | "deleteUserReport">;

/**
 * Changes a report's state in Warden's database, and for a dismissal only then deletes it on
 * the homeserver; afterwards the card (or its digest) is edited to show the new state.
 */
export class ReportService implements ReportDesk {
  constructor(
    private readonly store: ReportStore,
    private readonly admin: DeskAdmin,
    private readonly chat: Pick<ChatSender, "edit">,
    private readonly managementRoomId: RoomId,
    private readonly prefix: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  list(filter: ReportListFilter, from: number, limit: number) {
    return this.store.list(filter, from, limit);
  }

  async card(ref: ReportRef): Promise<ReportCard | undefined> {
    const report = this.store.get(ref);
    return report === undefined ? undefined : buildCard(report, this.admin, FULL_CONTEXT_LIMIT);
  }

  reportForCard(eventId: string): StoredReport | undefined {
    const reports = this.store.byCard(eventId);
    return reports.length === 1 ? reports[0] : undefined;
  }

  async resolve(ref: ReportRef, by: string, how: "done" | "dismissed"): Promise<Result<Changed, string>> {
    const report = this.store.get(ref);
    if (report === undefined) return err(unknownReport(ref));
    const label = reportLabel(ref);
    if (report.state === "resolved" && !(how === "dismissed" && report.resolution === "dismissed" && !report.deletedOnHomeserver)) {
      return err(`report ${label} was already resolved (${report.resolution ?? "done"}${report.changedBy === undefined ? "" : ` by ${report.changedBy}`}); nothing changed.`);
    }
    const resolved = this.store.update(ref, { state: "resolved", resolution: how, changedBy: by, changedAt: this.clock.now() }) ?? report;
    this.log.info({ reportId: label, by, how }, "report resolved");
    if (how === "done") {
      await this.refreshCard(resolved);
      return ok({ kind: "report-changed", report: resolved, change: "done" });
    }
    const deletion = await this.deleteOnHomeserver(resolved);
    const final = deletion.ok ? (this.store.update(ref, { deletedOnHomeserver: true }) ?? resolved) : resolved;
    if (!deletion.ok) this.log.warn({ reportId: label, homeserverReportId: report.homeserverId, problem: deletion.problem }, "could not delete a dismissed report on the homeserver");
    await this.refreshCard(final);
    return ok({ kind: "report-changed", report: final, change: "dismissed", deletion });
  }

  /**
   * Deletes the report on the homeserver only if the report there with its id is still this
   * one: Synapse gives a deleted newest id to the next report after a restart, and deleting by
   * id would then delete that one. Another report Warden took with the same id and a later
   * received time proves it (ids are reused only once deleted); otherwise the homeserver's
   * report with that id is read and compared. A 404 there is not proof that it is gone: the
   * single event report read also fails when the reported event was purged or the room deleted
   * (a card's 🗑️ and 💥 do that), where DELETE still removes it; the list shows no report of a
   * room deleted, so nothing else could be checked. Reports about users have no such join, and
   * are read and deleted the same way.
   */
  private async deleteOnHomeserver(report: StoredReport): Promise<ReportDeletion> {
    const later = this.store.withHomeserverId(report.kind, report.homeserverId).find((other) => other.receivedTs > report.receivedTs);
    if (later !== undefined) return { ok: true, reusedBy: { ...reusedBy(identityOf(later)), wardenId: later.id } };
    const current = await this.readOnHomeserver(report);
    if (current.ok) {
      if (!sameReport(current.value, identityOf(report))) return { ok: true, reusedBy: reusedBy(current.value) };
    } else if (current.error.kind !== "not-found") {
      return { ok: false, problem: current.error.userMessage };
    }
    const deleted = report.kind === "event" ? await this.admin.deleteEventReport(report.homeserverId) : await this.admin.deleteUserReport(report.homeserverId);
    // A 404 means it is gone already (deleted by another admin tool): the goal is reached.
    return deleted.ok || deleted.error.kind === "not-found" ? { ok: true } : { ok: false, problem: deleted.error.userMessage };
  }

  /** Who the homeserver's report with this report's id is now. */
  private async readOnHomeserver(report: StoredReport): Promise<Result<ReportIdentity, AdminError>> {
    if (report.kind === "event") {
      const read = await this.admin.eventReport(report.homeserverId);
      return read.ok ? ok(identityOf(eventReportFacts(read.value))) : read;
    }
    const read = await this.admin.userReport(report.homeserverId);
    return read.ok ? ok(identityOf(userReportFacts(read.value))) : read;
  }

  async acknowledge(ref: ReportRef, by: string): Promise<Result<Changed, string>> {
    const report = this.store.get(ref);
    if (report === undefined) return err(unknownReport(ref));
    if (report.state !== "open") return ok({ kind: "report-changed", report, change: "acknowledged" });
    const acknowledged = this.store.update(ref, { state: "acknowledged", changedBy: by, changedAt: this.clock.now() }) ?? report;
    await this.refreshCard(acknowledged);
    return ok({ kind: "report-changed", report: acknowledged, change: "acknowledged" });
  }

  /** Edits the card so the room sees the new state; a failed edit is cosmetic (the reply says it too). */
  private async refreshCard(report: StoredReport): Promise<void> {
    if (report.cardEventId === undefined) return;
    let message;
    if (report.digestKey !== undefined) {
      const digest = this.store.digest(report.digestKey);
      if (digest === undefined || digest.cardEventId !== report.cardEventId) return;
      message = renderDigest(digest, digest.reportIds.flatMap((ref) => this.store.get(ref) ?? []), this.prefix);
    } else {
      message = renderReportCard(await buildCard(report, this.admin, CARD_CONTEXT_LIMIT), this.prefix);
    }
    const edited = await this.chat.edit(this.managementRoomId, report.cardEventId, message);
    if (!edited.ok) this.log.warn({ reportId: reportLabel(report), error: edited.error }, "could not edit a report card");
  }
}

function reusedBy(identity: ReportIdentity): ReusedBy {
  const { reporter, receivedTs } = identity;
  return identity.kind === "event" ? { kind: "event", eventId: identity.eventId, reporter, receivedTs } : { kind: "user", target: identity.target, reporter, receivedTs };
}

function unknownReport(ref: ReportRef): string {
  return `Warden has no ${ref.kind === "user" ? "report about a user" : "report"} ${reportLabel(ref)}: it knows the reports it posted here (see !reports --all).`;
}
